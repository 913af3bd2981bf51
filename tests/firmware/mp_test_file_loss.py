# micropython-test heapsize=160K
# "Losing any one file on a lock reopens nothing" (docs/PROTOCOL.md "State loss"), on the real MicroPython
# interpreter: a lock in lockdown after a key rotation, with a revoked card, a card outside its window, an
# expired card and a non-admin refused; then, for each of state.bin, perm.db, site.json, keys.bin, config.json
# and a log segment, the file is deleted or damaged, the lock reboots, and every tap refused before is still
# refused, and a replayed older snapshot (which would reopen them) is refused too.
# heapsize 160K: the whole core compiles from source into the heap here.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import json
import os

from tests.firmware import fwapp, fwenv, fwhw

from core import config as core_config
from core.app import LockApp

MON = fwapp.MON
AT = MON + 20 * 3600  # Monday 20:00 UTC: outside office hours
SECRET2 = bytes(range(100, 132))
OFFICE = [[0x1F, 540, 1080]]
ADMIN_ANY, ADMIN_OFFICE, ADMIN_EXPIRED, ADMIN_REVOKED, NORMAL = 10, 11, 12, 13, 14
# What the cloud granted in version 1 (everything open) and version 2 (the current rules).
OLD = {ADMIN_ANY: [(1, 0, 0, [])], ADMIN_OFFICE: [(1, 0, 0, [])], ADMIN_EXPIRED: [(1, 0, AT + 86400, [])],
       ADMIN_REVOKED: [(1, 0, 0, [])], NORMAL: [(0, 0, 0, [])]}
NEW = {ADMIN_ANY: [(1, 0, 0, [])], ADMIN_OFFICE: [(1, 0, 0, OFFICE)], ADMIN_EXPIRED: [(1, 0, AT - 60, [])],
       ADMIN_REVOKED: [(1, 0, 0, [])], NORMAL: [(0, 0, 0, [])]}
REFUSED = (ADMIN_OFFICE, ADMIN_EXPIRED, ADMIN_REVOKED, NORMAL)
FILES = ("state.bin", "perm.db", "site.json", "keys.bin", "config.json", "ev00000000.log")


def _config_file(d):
    with open(d + "/config.json", "w") as f:
        f.write(json.dumps(fwapp.CONFIG))


def _reference_lock():
    """The lock every case starts from (its data dir): v1 then v2 under a rotated key, v3 revokes a card."""
    d = fwenv.temp_dir()
    _config_file(d)
    hw, app = fwapp.make_app(data_dir=d, now=AT, provisioned=False)
    app.new_challenge()
    assert app.apply_time(AT, fwapp.UTC, AT + 30 * 86400) is None
    assert fwapp.send_snapshot(app, 1, OLD) == {"ver": 1, "ok": True}
    assert app.apply_rekey(2, SECRET2) is None
    app.on_verified_key(2)
    assert fwapp.send_snapshot(app, 2, NEW, generation=2, secret=SECRET2) == {"ver": 2, "ok": True}
    revoke = {"base": 2, "ver": 3, "g": 2, "add": [], "del": [fwenv.table_hash(ADMIN_REVOKED, SECRET2)]}
    assert fwapp.run(app.apply_delta(revoke)) == {"ver": 3, "ok": True}
    lockdown = {"ver": 1, "mode": "lockdown", "passage": [], "unlock_s": 5, "held_s": 30}
    assert app.apply_config(lockdown) == {"ver": 1, "ok": True}
    assert _refusals(app) == ["outside_schedule", "expired", "unknown_credential", "lockdown"]
    assert fwapp.reason(app, ADMIN_ANY) == "ok"
    assert sorted(n for n in os.listdir(d) if not n.endswith(".log")) == [
        "config.json", "keys.bin", "perm.db", "site.json", "state.bin"]
    assert "ev00000000.log" in os.listdir(d)
    app.store.close()
    return d


def _refusals(app):
    return [fwapp.reason(app, n) for n in REFUSED]


def _copy_dir(src):
    dst = fwenv.temp_dir()
    for name in os.listdir(src):
        with open(src + "/" + name, "rb") as f:
            data = f.read()
        with open(dst + "/" + name, "wb") as f:
            f.write(data)
    return dst


def _damage(path):
    """Flip bits in the middle of the file (a torn or worn flash page)."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    middle = len(data) // 2
    for i in range(middle, min(len(data), middle + 4)):
        data[i] ^= 0x5A
    with open(path, "wb") as f:
        f.write(data)


def _boot(d):
    """Reboot the lock at AT, with whatever config.json still holds (a lock without one has no keys)."""
    try:
        config = core_config.load(d + "/config.json")
    except core_config.ConfigError:
        config = dict(core_config.DEFAULTS)  # main.py refuses to start; at most the core on its defaults
    hw = fwhw.FakeHardware(d, now=AT)
    return LockApp(hw, config)


def _check_nothing_reopens(reference, name, how):
    d = _copy_dir(reference)
    path = d + "/" + name
    if how == "delete":
        os.remove(path)
    else:
        _damage(path)
    app = _boot(d)
    label = name + " " + how
    refused = _refusals(app)
    assert "ok" not in refused, (label, refused)
    # a replayed older snapshot (it would reopen every refused card) is refused as well, bound or not
    for bound in (False, True):
        ack = fwapp.send_snapshot(app, 1, OLD, generation=1, bound=bound)
        assert ack["ok"] is False, (label, ack)
    refused_after = _refusals(app)
    assert "ok" not in refused_after, (label, refused_after)
    app.store.close()
    fwenv.remove_tree(d)
    return refused


def test_losing_or_damaging_any_one_file_reopens_nothing():
    reference = _reference_lock()
    seen = {}
    for name in FILES:
        for how in ("delete", "damage"):
            seen[name + " " + how] = _check_nothing_reopens(reference, name, how)
    print(seen)
    # the refusals say why: what each loss does to the lock
    unknown, clock, site = "unknown_credential", "clock_not_set", "site_unknown"
    for how in ("delete", "damage"):
        assert seen["state.bin " + how] == [clock, clock, unknown, "lockdown"]  # resync: clock not trusted
        assert seen["site.json " + how] == [site, site, unknown, site]
        assert seen["keys.bin " + how] == ["store_unavailable"] * 4
    assert seen["perm.db delete"] == ["unknown_credential"] * 4
    assert seen["perm.db damage"] == ["store_unavailable"] * 4
    assert seen["config.json delete"] == ["not_provisioned"] * 4
    assert seen["ev00000000.log delete"] == ["outside_schedule", "expired", "unknown_credential", "lockdown"]
    fwenv.remove_tree(reference)
