# micropython-test heapsize=160K
# The LockApp API the network layer calls (core.cloudapi), on the real MicroPython interpreter with fake
# hardware: challenge, resync, version floors, deltas, config, one-shot commands, key rotation, the clock's
# trust across resets, re-provisioning and the hello payload.
# heapsize 160K: the whole core compiles from source into the heap here.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import binascii
import os

from tests.firmware import fwapp, fwenv, fwhw

from core import keys as core_keys
from core.app import LockApp
from shared_schema.hmac_sha256 import hmac_sha256
from shared_schema import vocabulary

NOW, UTC, UNTIL = fwapp.NOW, fwapp.UTC, fwapp.UNTIL
_app, _run, _reason = fwapp.make_app, fwapp.run, fwapp.reason
SECRET2 = bytes(range(100, 132))


def _delta(base, ver, add=(), dels=(), g=1):
    return {"base": base, "ver": ver, "g": g, "add": list(add), "del": list(dels)}


def _grant(n, role=0, valid_from=0, valid_until=0, windows=None, secret=fwenv.DEVICE_SECRET):
    return [fwenv.table_hash(n, secret), role, valid_from, valid_until, windows or []]


def test_challenge_is_fresh_random_and_ages_on_ticks():
    hw, app = _app(provisioned=False)
    assert app.challenge is None and app.challenge_age_s() is None
    first = app.new_challenge()
    assert len(first) == 32 and binascii.unhexlify(first) and app.challenge == first
    hw.time.ms += 12500
    assert app.challenge_age_s() == 12
    assert app.hello_payload()["nonce"] != first and app.challenge_age_s() == 0
    hw.time.ms += 86400 * 1000 + 1
    app.step()  # a challenge older than a day is stale for good (ticks wrap after ~12 days on a board)
    assert app.challenge_age_s() >= 1 << 30


def test_lost_state_means_resync_until_a_complete_bound_snapshot():
    hw, app = _app(provisioned=False)
    assert app.resync and app.hello_payload()["resync"] is True
    assert app.clock.trusted_now() is None  # RTC running, but no floor: not trusted
    assert _run(app.apply_delta(_delta(0, 1, [_grant(1)]))) == {
        "ver": 0, "ok": False, "err": "resync_required", "need": "snapshot"}
    # an unbound snapshot is applied (it verified) but does not end the resync
    assert fwapp.send_snapshot(app, 1, bound=False) == {"ver": 1, "ok": True}
    assert app.resync
    # chunks of which one was not bound: still resync
    grants = dict(fwapp.GRANTS)
    for n in range(10, 30):
        grants[n] = [(0, 0, 0, [])]
    payloads = fwapp.snapshot_payloads(2, grants)
    assert len(payloads) == 2
    assert _run(app.apply_snapshot(payloads[0], False)) is None
    assert _run(app.apply_snapshot(payloads[1], True)) == {"ver": 2, "ok": True}
    assert app.resync
    hw, app = fwapp.reboot(hw)  # the flag is persisted
    assert app.resync and app.clock.trusted_now() is None
    # the version already held, every chunk bound: acknowledged without rewriting, and the resync ends
    with open(hw.data_dir + "/perm.db", "rb") as f:
        before = f.read()
    for payload in payloads:
        ack = _run(app.apply_snapshot(payload, True))
    assert ack == {"ver": 2, "ok": True} and not app.resync
    with open(hw.data_dir + "/perm.db", "rb") as f:
        assert f.read() == before
    hw, app = fwapp.reboot(hw)
    assert not app.resync and app.hello_payload()["resync"] is False


def test_snapshots_never_go_back():
    hw, app = _app()
    assert fwapp.send_snapshot(app, 5) == {"ver": 5, "ok": True}
    assert fwapp.send_snapshot(app, 4) == {"ver": 5, "ok": False, "err": "version_rollback"}
    # the store lost: the state's floor still refuses the old table (the lock knows nobody meanwhile)
    os.remove(hw.data_dir + "/perm.db")
    hw, app = fwapp.reboot(hw)
    assert app.store.status == "missing" and app.pv_floor() == 5
    ack = fwapp.send_snapshot(app, 4)
    assert ack == {"ver": 0, "ok": False, "err": "version_rollback", "need": "snapshot"}
    assert _reason(app, 1) == "unknown_credential"
    assert fwapp.send_snapshot(app, 5) == {"ver": 5, "ok": True} and _reason(app, 1) == "ok"
    # a snapshot hashed under a key generation this lock does not hold is refused
    assert fwapp.send_snapshot(app, 6, generation=7) == {"ver": 5, "ok": False, "err": "unknown_key_gen"}


def test_deltas_need_the_live_base_and_generation():
    hw, app = _app()
    assert _run(app.apply_delta(_delta(1, 2, [_grant(7)], g=2))) == {
        "ver": 1, "ok": False, "err": "key_mismatch", "need": "snapshot"}
    assert _run(app.apply_delta(_delta(3, 4, [_grant(7)]))) == {
        "ver": 1, "ok": False, "err": "base_mismatch", "need": "snapshot"}
    assert _reason(app, 7) == "unknown_credential"
    # the adds of one credential replace all of its entries; a delete removes all of them
    night = [[0x7F, 1320, 360]]
    add = sorted([_grant(7), _grant(3, 0, 0, 0, night), _grant(3, 0, NOW - 10, NOW + 10)])
    assert _run(app.apply_delta(_delta(1, 2, add, [fwenv.table_hash(1)]))) == {"ver": 2, "ok": True}
    assert (_reason(app, 7), _reason(app, 1), _reason(app, 3)) == ("ok", "unknown_credential", "ok")
    hw.rtc.value = NOW + 11
    assert _reason(app, 3) == "outside_schedule"  # the old office-hours entry is gone
    assert app.state.pv_floor == 2


def test_config_is_versioned_persisted_and_reported():
    hw, app = _app()
    assert app.hello_payload()["cv"] == 0
    config = {"ver": 3, "mode": "normal", "passage": [], "unlock_s": 7, "held_s": 60}
    assert app.apply_config(config) == {"ver": 3, "ok": True}
    assert app.thumbturn.unlock_ms == 7000 and app.hello_payload()["cv"] == 3
    assert app.apply_config(dict(config, ver=2)) == {"ver": 3, "ok": False, "err": "config_rollback"}
    assert app.apply_config(dict(config, ver=4, held_s=1)) == {"ver": 3, "ok": False, "err": "bad_held_s"}
    hw, app = fwapp.reboot(hw)
    assert app.hello_payload()["cv"] == 3 and app.site.unlock_s == 7


def test_commands_are_one_shot_across_reboots():
    hw, app = _app()
    assert app.remote("c-1", "unlock", 20) == {"id": "c-1", "ok": True}
    assert hw.actuator.moves == ["unlock"]
    fwapp.advance(hw, app, 10000)
    assert hw.actuator.moves == ["unlock"]  # unlocked for 20 s, not unlock_s
    fwapp.advance(hw, app, 11000)
    assert hw.actuator.moves == ["unlock", "lock"]
    assert app.remote("c-1", "unlock") == {"id": "c-1", "ok": True}  # answered, not executed again
    assert hw.actuator.moves == ["unlock", "lock"]
    hw, app = fwapp.reboot(hw)
    assert app.remote("c-1", "unlock") == {"id": "c-1", "ok": True} and hw.actuator.moves == []
    assert app.remote("c-2", "open_sesame") == {"id": "c-2", "ok": False, "err": "bad_action"}
    assert app.remote("c-2", "unlock", 0) == {"id": "c-2", "ok": False, "err": "bad_dur"}
    assert app.remote("c-2", "unlock") == {"id": "c-2", "ok": True} and hw.actuator.moves == ["unlock"]
    assert [e[2:] for e in fwapp.events(app)[-1:]] == [["remote_unlock", "", "remote"]]


def _mac(key, data=b"probe"):
    return key.mac(data)


def test_key_rotation_keeps_the_door_working_and_forgets_the_old_secret():
    hw, app = _app()
    k_down1 = hmac_sha256(fwenv.DEVICE_SECRET, core_keys.LABEL_DOWN)
    [(gen, down, up)] = app.downlink_keys()
    assert gen == 1 and _mac(down) == hmac_sha256(k_down1, b"probe")
    # the cloud wraps the new secret with K_down and the rekey message's counter
    n = 77
    pad = hmac_sha256(k_down1, b"openakerun/v2/rekey/77")
    wrapped = binascii.hexlify(bytes(SECRET2[i] ^ pad[i] for i in range(32))).decode()
    secret = core_keys.unwrap(down, n, wrapped)
    assert secret == SECRET2 and core_keys.unwrap(down, n, "zz") is None
    assert app.apply_rekey(2, secret) is None
    k_up2 = hmac_sha256(SECRET2, core_keys.LABEL_UP)
    assert _mac(app.uplink_key()) == hmac_sha256(k_up2, b"probe")  # the hello after it: new key
    assert [g for g, _, _ in app.downlink_keys()] == [2, 1]  # both verify until the new one has
    assert app.apply_rekey(2, secret) is None  # the same rekey again: done
    assert app.apply_rekey(2, bytes(32)) == "rekey_conflict" and app.apply_rekey(1, secret) == "rekey_stale"
    app.on_verified_key(2)
    assert [g for g, _, _ in app.downlink_keys()] == [2]
    assert _reason(app, 1) == "ok"  # the live table is still of generation 1: its K_table is kept
    hw, app = fwapp.reboot(hw)  # keys.bin
    assert [g for g, _, _ in app.downlink_keys()] == [2] and _reason(app, 1) == "ok"
    # the generation-2 table goes live: taps are looked up with the new K_table, the old secret goes
    assert fwapp.send_snapshot(app, 2, generation=2, secret=SECRET2) == {"ver": 2, "ok": True}
    assert app.hello_payload()["kg"] == 2 and _reason(app, 1) == "ok" and _reason(app, 4) == "expired"
    assert not app.keys.has(1)
    assert _run(app.apply_delta(_delta(2, 3, [_grant(8, secret=SECRET2)], g=2))) == {"ver": 3, "ok": True}
    assert _reason(app, 8) == "ok"
    # losing keys.bin: back to config.json's secret, which cannot read the generation-2 table
    os.remove(hw.data_dir + "/keys.bin")
    hw, app = fwapp.reboot(hw)
    assert [g for g, _, _ in app.downlink_keys()] == [1]
    assert (_reason(app, 1), _reason(app, 4), _reason(app, 999)) == ("store_unavailable",) * 3


def test_clock_trust_across_resets():
    hw, app = _app()
    floor = app.state.time_floor
    assert floor == NOW
    hw.rtc.value = NOW + 600
    hw, app = fwapp.reboot(hw)  # the RTC kept running: trusted, it reads above the floor
    assert app.clock.trusted_now() == NOW + 600 and app.hello_payload()["clk"] == "rtc"
    assert app.hello_payload()["sync_age"] == -1
    hw.rtc.value = NOW - 1
    hw, app = fwapp.reboot(hw)  # below the floor: not trusted
    assert app.clock.trusted_now() is None and _reason(app, 3) == "clock_not_set"
    assert app.set_untrusted_time(NOW + 5, "ntp") is None
    hw, app = fwapp.reboot(hw)  # set by NTP before the reset: still not trusted, whatever it reads
    assert app.clock.trusted_now() is None
    hw.rtc.value = None
    hw, app = fwapp.reboot(hw)  # power lost with the RTC: not trusted
    assert app.clock.trusted_now() is None and app.hello_payload()["clk"] == "none"
    assert app.apply_time(NOW + 100, UTC, UNTIL) is None and app.clock.trusted_now() == NOW + 100


def test_trusted_floor_is_refreshed_hourly_not_on_every_step():
    hw, app = _app()
    writes = []
    save = app.state.save

    def counting_save():
        writes.append(app.state.time_floor)
        save()

    app.state.save = counting_save
    for minute in range(1, 181):  # three hours of steps, one a minute
        hw.rtc.value = NOW + 60 * minute
        app.step()
    assert writes == [NOW + 3600, NOW + 7200, NOW + 10800], writes


def test_reprovisioning_starts_counters_over_in_resync():
    hw, app = _app()
    assert app.state.accept_downlink(50) and app.state.next_uplink() == 1
    assert app.apply_config({"ver": 3, "mode": "lockdown", "passage": [], "unlock_s": 5, "held_s": 30})["ok"]
    hw, app = fwapp.reboot(hw, dict(fwapp.CONFIG, epoch=2))
    assert app.epoch == 2 and app.state.epoch == 2 and app.resync
    assert app.state.down_counter == 0 and app.state.next_uplink() == 1
    assert app.store.status == "missing" and app.site.mode == "normal" and app.pv_floor() == 0
    assert fwapp.events(app)[-1][2:] == ["boot", "", "reprovisioned"]
    assert _reason(app, 1) == "unknown_credential"
    fwapp.provision(app)
    assert _reason(app, 1) == "ok"


def test_hello_has_every_v2_field():
    hw, app = _app()
    hello = app.hello_payload()
    expected = ("fw", "pv", "kg", "cv", "boot", "clk", "trusted", "sync_age", "mode", "pending", "dropped",
                "nonce", "resync", "store")
    for field in expected:
        assert field in hello, field
    assert (hello["pv"], hello["kg"], hello["store"], hello["trusted"]) == (1, 1, "ok", True)
    assert hello["boot"] in vocabulary.BOOT_REASONS and hello["clk"] in vocabulary.TIME_SOURCES
    assert hello["mode"] in vocabulary.MODES and hello["store"] in vocabulary.STORE_STATUSES
    assert hello["nonce"] == app.challenge and hello["heap"] > 0
    state = app.state_payload()
    assert sorted(state) == ["bolt", "door", "dropped", "mode", "pending", "pv"]
    # an unprovisioned lock says so and has no keys to talk with
    hw2 = fwhw.FakeHardware(fwenv.temp_dir())
    bare = LockApp(hw2, {})
    assert bare.downlink_keys() == [] and bare.hello_payload()["kg"] == 0


def test_lost_site_settings_hold_until_both_config_and_time_are_back_across_reboots():
    hw, app = _app()
    config = {"ver": 4, "mode": "normal", "passage": [], "unlock_s": 5, "held_s": 30}
    assert app.apply_config(config)["ok"]
    os.remove(hw.data_dir + "/site.json")
    hw, app = fwapp.reboot(hw)
    assert app.site.unknown and app.hello_payload()["mode"] == "lockdown" and app.hello_payload()["cv"] == 0
    assert (_reason(app, 1), _reason(app, 2), _reason(app, 3)) == ("site_unknown", "ok", "site_unknown")
    assert app.apply_config(config)["ok"]
    hw, app = fwapp.reboot(hw)  # the config is back, the time not yet: still unknown after a reboot
    assert app.site.unknown and _reason(app, 1) == "site_unknown"
    assert app.apply_time(NOW, UTC, UNTIL) is None
    assert not app.site.unknown and _reason(app, 1) == "ok" and _reason(app, 3) == "ok"
    assert fwapp.events(app)[-3][2:] == ["mode", "", "normal"]  # out of the held lockdown, logged
    hw, app = fwapp.reboot(hw)
    assert not app.site.unknown and app.hello_payload()["mode"] == "normal"
