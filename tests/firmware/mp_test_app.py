# micropython-test heapsize=160K
# LockApp with fake hardware (reader, actuator, door, exit button, LED, buzzer, RTC, watchdog) on the real
# MicroPython interpreter: the tap path end to end, modes, the clock's trust, the run loop. The handlers the
# network layer calls are in mp_test_cloudapi.py, file loss in mp_test_file_loss.py.
# heapsize 160K: the whole core compiles from source into the heap here.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import asyncio
import binascii

from tests.firmware import fwapp, fwenv, fwhw

from core.app import LockApp
from core.site import Site
from core import permformat
from shared_schema import vocabulary

NOW, UTC, UNTIL = fwapp.NOW, fwapp.UTC, fwapp.UNTIL
_app, _events, _advance, _reason = fwapp.make_app, fwapp.events, fwapp.advance, fwapp.reason


def _config(mode, passage=None):
    return {"ver": 2, "mode": mode, "passage": passage or [], "unlock_s": 5, "held_s": 30}


def test_role_values_match_the_contract():
    assert (permformat.ROLE_NORMAL, permformat.ROLE_ADMIN) == (vocabulary.ROLE_NORMAL, vocabulary.ROLE_ADMIN)


def test_boot_logs_reason_and_never_moves():
    hw = fwhw.FakeHardware(fwenv.temp_dir(), boot="watchdog")
    hw.actuator.position = "unlock"  # reset mid-cycle: found unlocked
    app = LockApp(hw, fwapp.CONFIG)
    _advance(hw, app, 20000)
    assert hw.actuator.moves == []
    assert _events(app) == [[1, 0, "boot", "", "watchdog"]]
    assert app.hello_payload()["boot"] == "watchdog"
    assert hw.watchdog.feeds > 0 and hw.led.shown[0] == "idle"


def test_granted_tap_unlocks_logs_the_cred_id_and_relocks():
    hw, app = _app()
    verdict = app.handle_tap("iso14443a", fwenv.uid(1))
    assert verdict.granted and verdict.reason == "ok"
    cred_hex = fwenv.cred_key(1)[1]  # the cred_id, not the table hash
    assert cred_hex != fwenv.table_hash(1)
    decision = hw.reports_of("decision")[-1]
    assert decision == {"granted": True, "reason": "ok", "kind": "iso14443a", "seq": 2, "cred": cred_hex}
    assert _events(app)[-1] == [2, NOW, "granted", cred_hex, "ok"]
    assert hw.actuator.moves == ["unlock"] and "granted" in hw.buzzer.shown
    _advance(hw, app, 400)
    assert app.state_payload()["bolt"] == "unlocked"
    _advance(hw, app, 5200)
    assert hw.actuator.moves == ["unlock", "lock"]
    _advance(hw, app, 400)
    assert app.state_payload()["bolt"] == "locked"
    assert _events(app)[-1][2:] == ["auto_lock", "", "timer"]
    # neither the raw UID nor the table hash ever leaves the lock
    uid_hex = binascii.hexlify(fwenv.uid(1)).decode()
    assert uid_hex not in repr(hw.reports) and fwenv.table_hash(1) not in repr(hw.reports)


def test_denied_taps_do_not_move():
    hw, app = _app()
    assert _reason(app, 999) == "unknown_credential"
    assert _reason(app, 4) == "expired"
    assert app.handle_tap("iso14443a", b"\x08\x01\x02\x03").reason == "random_uid"
    assert hw.actuator.moves == [] and hw.buzzer.shown.count("denied") == 3
    assert [e[2] for e in _events(app)[-3:]] == ["denied", "denied", "denied"]
    assert _events(app)[-1][3] == ""  # a refused identifier has no cred_id


def test_reader_polling_counts_a_resting_card_once():
    hw, app = _app()
    for _ in range(10):
        hw.reader.queue.append(("iso14443a", fwenv.uid(1)))
    _advance(hw, app, 500)
    assert len(hw.reports_of("decision")) == 1
    _advance(hw, app, 3000)  # card taken away for longer than tap_repeat_ms
    hw.reader.queue.append(("iso14443a", fwenv.uid(1)))
    _advance(hw, app, 100)
    assert len(hw.reports_of("decision")) == 2


def test_untrusted_clock_refuses_time_limited_grants_until_a_verified_time():
    hw, app = _app(now=None, provisioned=False)
    fwapp.send_snapshot(app, 1)
    assert app.hello_payload()["clk"] == "none" and app.hello_payload()["sync_age"] == -1
    assert _reason(app, 1) == "ok"  # always valid
    assert _reason(app, 3) == "clock_not_set"
    assert _events(app)[-1][1] == 0  # ts 0: clock not trusted
    # NTP sets the clock (for TLS) but never makes it trusted
    assert app.set_untrusted_time(NOW, "ntp") is None
    assert app.clock.now() == NOW and app.clock.trusted_now() is None
    assert _reason(app, 3) == "clock_not_set" and _events(app)[-1][1] == 0
    hello = app.hello_payload()
    assert (hello["clk"], hello["trusted"], hello["sync_age"]) == ("ntp", False, -1)
    assert app.apply_time(1000, UTC, UNTIL) == "time_implausible"
    assert app.apply_time(NOW, [[5, 0], [1, 0]], UNTIL) == "offsets_order"
    assert app.clock.trusted_now() is None  # refused: nothing changed
    assert app.apply_time(NOW + 60, UTC, UNTIL) is None
    assert _reason(app, 3) == "ok"
    hello = app.hello_payload()
    assert (hello["clk"], hello["trusted"], hello["sync_age"]) == ("cloud", True, 0)
    hw.rtc.value += 90
    assert app.hello_payload()["sync_age"] == 90
    # once trusted, an untrusted source cannot move it; a verified time may step back
    assert app.set_untrusted_time(NOW + 9999, "user") == "clock_trusted"
    assert app.apply_time(NOW, UTC, UNTIL) is None and app.clock.trusted_now() == NOW


def test_rtc_moved_back_behind_the_cores_back_is_not_trusted():
    hw, app = _app()
    assert app.clock.trusted_now() == NOW
    hw.rtc.value = NOW - 3600  # e.g. a HAL or a user setting the RTC directly
    assert app.clock.trusted_now() is None and _reason(app, 3) == "clock_not_set"


def test_lockdown_admits_admins_and_persists():
    d = fwenv.temp_dir()
    hw, app = _app(data_dir=d)
    assert app.apply_config(_config("lockdown")) == {"ver": 2, "ok": True}
    assert _events(app)[-1][2:] == ["mode", "", "lockdown"]
    assert _reason(app, 1) == "lockdown"
    assert _reason(app, 2) == "ok"
    hw2, app2 = fwapp.reboot(hw)  # lockdown remembered, store and log intact
    assert app2.site.mode == "lockdown" and app2.store.version == 1
    assert _reason(app2, 1) == "lockdown"
    assert app.apply_config(dict(_config("chaos"), ver=3)) == {"ver": 2, "ok": False, "err": "bad_mode"}


def test_exit_button_and_door_events():
    hw, app = _app()
    hw.exit_button.pressed = True
    _advance(hw, app, 400)
    assert hw.actuator.moves == ["unlock"]
    hw.door.open = True
    _advance(hw, app, 10000)
    assert hw.actuator.moves == ["unlock"]  # never locks into an open door
    hw.door.open = False
    _advance(hw, app, 400)
    assert hw.actuator.moves == ["unlock", "lock"]
    kinds = [e[2] for e in _events(app)]
    assert kinds[-4:] == ["exit_request", "door_open", "door_closed", "auto_lock"]
    assert hw.reports_of("door") == [{"open": True}, {"open": False}]
    assert app.state_payload()["door"] == "closed"


def test_door_forced_open_is_logged_and_signalled():
    hw, app = _app(now=NOW)  # the fake actuator confirms its position, like a lock with end switches
    hw.door.open = True
    _advance(hw, app, 100)
    assert _events(app)[-1][2:] == ["tamper", "", "forced"] and hw.led.shown[-1] == "error"
    hw.door.open = False
    hw.exit_button.pressed = True  # the way out from inside: no alarm
    _advance(hw, app, 50)
    hw.door.open = True
    _advance(hw, app, 100)
    assert [e[2] for e in _events(app)].count("tamper") == 1 and hw.actuator.moves == ["unlock"]


def test_held_open_and_jam_are_reported():
    hw, app = _app()
    app.handle_tap("iso14443a", fwenv.uid(1))
    _advance(hw, app, 400)
    hw.door.open = True
    _advance(hw, app, 31000)
    assert _events(app)[-1][2] == "held_open" and "held_open" in hw.led.shown
    hw.door.open = False
    hw.actuator.stuck = ("lock",)
    _advance(hw, app, 3500)
    assert [e[2:] for e in _events(app)[-2:]] == [["jammed", "", "retry"], ["jammed", "", "lock_failed"]]
    assert app.state_payload()["bolt"] == "jammed" and "jammed" in hw.led.shown


def test_passage_mode_holds_unlocked():
    hw, app = _app()
    assert app.apply_config(_config("passage", [[0x1F, 480, 1080]]))["ok"]
    _advance(hw, app, 20000)
    assert hw.actuator.moves == ["unlock"] and app.state_payload()["bolt"] == "unlocked"
    hw.rtc.value = NOW + 9 * 3600  # 19:00: the passage window is over
    _advance(hw, app, 6000)
    assert hw.actuator.moves == ["unlock", "lock"]
    # config change, window opens, window closes
    assert [e[4] for e in _events(app) if e[2] == "mode"] == ["passage", "passage", "normal"]
    # back to normal mode while a window is open: the hold ends at once
    assert app.apply_time(NOW, UTC, UNTIL) is None
    _advance(hw, app, 500)
    assert hw.actuator.moves[-1] == "unlock"
    assert app.apply_config(dict(_config("normal"), ver=3))["ok"]
    _advance(hw, app, 6000)
    assert hw.actuator.moves[-1] == "lock" and app.state_payload()["bolt"] == "locked"


def test_passage_windows_need_the_clock_and_the_offsets():
    d = fwenv.temp_dir()
    h = 3600
    mon = fwapp.MON
    site = Site(d, {"mode": "passage", "passage_windows": [[0x1F, 480, 1080]], "utc_offsets": [[0, 0]]})
    assert site.passage_active(mon + 10 * h)
    assert not site.passage_active(mon + 19 * h)
    assert not site.passage_active(mon + 5 * 86400 + 10 * h)  # Saturday
    assert not site.passage_active(None)  # unknown time: stay locked
    assert site.set_offsets([[0, 0]], mon + 10 * h) is None
    assert not site.passage_active(mon + 10 * h)  # local time unknown past `until`
    assert site.apply_config({"mode": "passage", "passage": [], "unlock_s": 5, "held_s": 30}) is None
    assert site.passage_active(None)  # passage with no windows: always
    assert Site(d, {}).mode == "passage"  # persisted in site.json
    with open(d + "/site.json", "w") as f:
        f.write("{not json")
    assert Site(d, {"mode": "normal"}).status == "corrupt"


def test_events_payload_and_ack():
    hw, app = _app()
    for _ in range(3):
        app.handle_tap("iso14443a", fwenv.uid(999))
    payload = app.events_payload()
    seqs = [e[0] for e in payload["ev"]]
    assert payload["dropped"] == 0 and seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 4
    for _seq, ts, kind, cred, reason in payload["ev"]:
        assert kind in vocabulary.EVENT_TYPES and len(reason) <= 24 and cred in ("", fwenv.cred_key(999)[1])
        assert ts in (0, NOW)
    assert len(payload["ev"]) <= vocabulary.MAX_EVENTS_PER_BATCH
    assert app.ack_events(seqs[-1]) == seqs[-1]
    assert app.events_payload() is None and app.hello_payload()["pending"] == 0


def test_unprovisioned_lock_denies_and_keeps_running():
    hw, app = _app(config={"site_key": "abc"}, provisioned=False)
    assert _reason(app, 1) == "not_provisioned"
    assert hw.actuator.moves == [] and app.downlink_keys() == [] and app.uplink_key() is None


def test_failing_observer_does_not_break_the_tap_path():
    hw, app = _app()

    def broken(kind, fields):
        raise OSError("socket closed")

    hw.report = broken
    assert app.handle_tap("iso14443a", fwenv.uid(1)).granted
    assert hw.actuator.moves == ["unlock"]


def test_run_loop_serves_taps_and_survives_bad_reader_output():
    hw, app = _app()
    hw.reader.queue.append("garbage")  # a broken driver: the loop must go on
    hw.reader.queue.append(("iso14443a", fwenv.uid(1)))

    async def main():
        task = asyncio.create_task(app.run())
        await asyncio.sleep_ms(300)
        task.cancel()

    asyncio.run(main())
    assert hw.reports_of("error")[0]["where"] == "step"
    assert hw.reports_of("decision")[-1]["granted"] is True
    assert hw.actuator.moves == ["unlock"] and hw.watchdog.feeds > 1
