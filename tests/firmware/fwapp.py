# A provisioned test lock for LockApp tests: config (site key, device secret, epoch), grants of numbered test
# credentials as the cloud would send them (table hashes, sorted, in 16-entry snap chunks), trusted time.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import asyncio
import binascii

from tests.firmware import fwenv, fwhw

from core.app import LockApp

MON = 1795392000  # 2026-11-23 00:00 UTC, a Monday
NOW = MON + 10 * 3600  # Monday 10:00 UTC
UNTIL = NOW + 30 * 86400  # the offset table's horizon
UTC = [[0, 0]]
CHUNK = 16


def _hex(data):
    return binascii.hexlify(data).decode()


CONFIG = {"site_key": _hex(fwenv.SITE_KEY), "device_secret": _hex(fwenv.DEVICE_SECRET), "epoch": 1,
          "unlock_seconds": 5, "held_open_seconds": 30, "jam_timeout_ms": 1500, "tap_repeat_ms": 2000}

# credential number -> its entries (role, valid_from, valid_until, windows)
GRANTS = {
    1: [(0, 0, 0, [])],  # normal, any time
    2: [(1, 0, 0, [])],  # admin, any time
    3: [(0, 0, 0, [[0x1F, 540, 1080]])],  # Mon-Fri 09:00-18:00
    4: [(0, 0, NOW - 1, [])],  # expired
}


def entries(grants, secret=fwenv.DEVICE_SECRET):
    out = []
    for n in grants:
        for role, valid_from, valid_until, windows in grants[n]:
            out.append([fwenv.table_hash(n, secret), role, valid_from, valid_until, windows])
    out.sort()
    return out


def snapshot_payloads(version, grants=None, generation=1, secret=fwenv.DEVICE_SECRET):
    parts = fwenv.chunks(entries(GRANTS if grants is None else grants, secret), CHUNK)
    n = len(parts)
    return [{"ver": version, "g": generation, "i": i, "of": n, "e": parts[i]} for i in range(n)]


def run(coroutine):
    return asyncio.run(coroutine)


def send_snapshot(app, version, grants=None, generation=1, secret=fwenv.DEVICE_SECRET, bound=True):
    """Every chunk of a snapshot; returns the last answer (the perm_ack)."""
    ack = None
    for payload in snapshot_payloads(version, grants, generation, secret):
        ack = run(app.apply_snapshot(payload, bound))
    return ack


def provision(app, version=1, grants=None, now=NOW):
    """What the cloud does for a lock in resync: time, then a bound snapshot."""
    app.new_challenge()
    assert app.apply_time(now, UTC, UNTIL) is None
    ack = send_snapshot(app, version, grants)
    assert ack == {"ver": version, "ok": True}, ack
    assert not app.resync


def make_app(data_dir=None, now=NOW, config=None, provisioned=True, door=True, boot="power_on"):
    hw = fwhw.FakeHardware(data_dir or fwenv.temp_dir(), door=door, now=now, boot=boot)
    app = LockApp(hw, CONFIG if config is None else config)
    if provisioned:
        provision(app, now=now)
    return hw, app


def reboot(hw, config=None, boot="power_on"):
    """The same data dir and RTC, a new LockApp (what a reset does)."""
    new = fwhw.FakeHardware(hw.data_dir, door=hw.door is not None, now=hw.rtc.value, boot=boot)
    return new, LockApp(new, CONFIG if config is None else config)


def reason(app, n):
    return app.handle_tap("iso14443a", fwenv.uid(n)).reason


def events(app):
    return app.log.read_batch(1000)


def advance(hw, app, ms, step=50):
    end = hw.time.ms + ms
    while hw.time.ms < end:
        hw.time.ms += step
        app.step()
