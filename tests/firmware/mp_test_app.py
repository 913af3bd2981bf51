# micropython-test heapsize=160K
# LockApp with fake hardware (reader, actuator, door, exit button, LED, buzzer, RTC, watchdog) on the real
# MicroPython interpreter: the tap path end to end, modes, clock, downlink handlers and the run loop.
# heapsize 160K (148K is the least that passes): the whole core compiles from source into the heap here.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import asyncio
import binascii

from tests.firmware import fwenv, fwhw

from core.app import LockApp
from core.site import Site
from core import permformat
from shared_schema import messages

NOW = 1795392000 + 10 * 3600  # Monday 10:00 UTC
CONFIG = {"site_key": binascii.hexlify(fwenv.SITE_KEY).decode(), "unlock_seconds": 5,
          "held_open_seconds": 30, "jam_timeout_ms": 1500, "tap_repeat_ms": 2000}

# credential number -> (role, valid_from, valid_until, windows)
GRANTS = {1: (0, 0, 0, []), 2: (1, 0, 0, []), 3: (0, 0, 0, [[0x1F, 540, 1080]]), 4: (0, 0, NOW - 1, [])}


def _snapshot_payloads(version, numbers):
    entries = []
    for n in numbers:
        role, valid_from, valid_until, windows = GRANTS[n]
        entries.append([fwenv.cred_key(n)[1], role, valid_from, valid_until, windows])
    entries.sort(key=lambda e: e[0])
    parts = fwenv.chunks(entries, messages.MAX_ENTRIES_PER_CHUNK)
    return [{"ver": version, "i": i, "of": len(parts), "e": parts[i]} for i in range(len(parts))]


def _app(now=None, door=True, config=None, data_dir=None, provision=True):
    hw = fwhw.FakeHardware(data_dir or fwenv.temp_dir(), door=door, now=now)
    app = LockApp(hw, config or CONFIG)
    if provision:
        acks = [asyncio.run(app.apply_snapshot(p)) for p in _snapshot_payloads(1, sorted(GRANTS))]
        assert acks[-1] == {"ver": 1, "ok": True}, acks
    return hw, app


def _events(app):
    return app.log.read_batch(1000)


def _advance(hw, app, ms, step=50):
    end = hw.time.ms + ms
    while hw.time.ms < end:
        hw.time.ms += step
        app.step()


def test_role_values_match_the_contract():
    assert (permformat.ROLE_NORMAL, permformat.ROLE_ADMIN) == (messages.ROLE_NORMAL, messages.ROLE_ADMIN)


def test_boot_logs_reason_and_never_moves():
    hw = fwhw.FakeHardware(fwenv.temp_dir(), boot="watchdog")
    hw.actuator.position = "unlock"  # reset mid-cycle: found unlocked
    app = LockApp(hw, CONFIG)
    _advance(hw, app, 20000)
    assert hw.actuator.moves == []
    assert _events(app) == [[1, 0, "boot", "", "watchdog"]]
    assert app.hello_payload()["boot"] == "watchdog"
    assert hw.watchdog.feeds > 0 and hw.led.shown[0] == "idle"


def test_granted_tap_unlocks_logs_and_relocks():
    hw, app = _app(now=NOW)
    verdict = app.handle_tap("iso14443a", fwenv.uid(1))
    assert verdict.granted and verdict.reason == "ok"
    cred_hex = fwenv.cred_key(1)[1]
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
    # the raw UID never leaves the lock
    uid_hex = binascii.hexlify(fwenv.uid(1)).decode()
    assert uid_hex not in repr(hw.reports)


def test_denied_taps_do_not_move():
    hw, app = _app(now=NOW)
    assert app.handle_tap("iso14443a", fwenv.uid(999)).reason == "unknown_credential"
    assert app.handle_tap("iso14443a", fwenv.uid(4)).reason == "expired"
    assert app.handle_tap("iso14443a", b"\x08\x01\x02\x03").reason == "random_uid"
    assert hw.actuator.moves == [] and hw.buzzer.shown.count("denied") == 3
    assert [e[2] for e in _events(app)[1:]] == ["denied", "denied", "denied"]
    assert _events(app)[-1][3] == ""  # a refused identifier has no hash


def test_reader_polling_counts_a_resting_card_once():
    hw, app = _app(now=NOW)
    for _ in range(10):
        hw.reader.queue.append(("iso14443a", fwenv.uid(1)))
    _advance(hw, app, 500)
    assert len(hw.reports_of("decision")) == 1
    _advance(hw, app, 3000)  # card taken away for longer than tap_repeat_ms
    hw.reader.queue.append(("iso14443a", fwenv.uid(1)))
    _advance(hw, app, 100)
    assert len(hw.reports_of("decision")) == 2


def test_unset_clock_refuses_time_limited_grants_until_synced():
    hw, app = _app(now=None)
    assert app.hello_payload()["clk"] == "none" and app.hello_payload()["sync_age"] == -1
    assert app.handle_tap("iso14443a", fwenv.uid(1)).granted  # always-valid
    assert app.handle_tap("iso14443a", fwenv.uid(3)).reason == "clock_not_set"
    assert _events(app)[-1][1] == 0  # ts 0: clock not set
    assert app.set_time(1000, None, "cloud") == "time_implausible"
    assert app.set_time(NOW, [[0, 0]], "ntp") is None
    assert app.handle_tap("iso14443a", fwenv.uid(3)).granted
    hello = app.hello_payload()
    assert hello["clk"] == "ntp" and hello["sync_age"] == 0
    hw.rtc.value += 90
    assert app.hello_payload()["sync_age"] == 90
    assert app.set_time(NOW, [[5, 0], [1, 0]], "cloud") == "offsets_order"


def test_lockdown_admits_admins_and_persists():
    d = fwenv.temp_dir()
    hw, app = _app(now=NOW, data_dir=d)
    assert app.apply_config({"mode": "lockdown", "passage": [], "unlock_s": 5, "held_s": 30}) is None
    assert _events(app)[-1][2:] == ["mode", "", "lockdown"]
    assert app.handle_tap("iso14443a", fwenv.uid(1)).reason == "lockdown"
    assert app.handle_tap("iso14443a", fwenv.uid(2)).granted
    hw2 = fwhw.FakeHardware(d, now=NOW)
    app2 = LockApp(hw2, CONFIG)  # reboot: lockdown remembered, store and log intact
    assert app2.site.mode == "lockdown" and app2.store.version == 1
    assert app2.handle_tap("iso14443a", fwenv.uid(1)).reason == "lockdown"
    assert app.apply_config({"mode": "chaos", "passage": [], "unlock_s": 5, "held_s": 30}) == "bad_mode"


def test_exit_button_and_door_events():
    hw, app = _app(now=NOW)
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


def test_held_open_and_jam_are_reported():
    hw, app = _app(now=NOW)
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
    hw, app = _app(now=NOW)
    assert app.apply_config({"mode": "passage", "passage": [[0x1F, 480, 1080]], "unlock_s": 5,
                             "held_s": 30}) is None
    _advance(hw, app, 20000)
    assert hw.actuator.moves == ["unlock"] and app.state_payload()["bolt"] == "unlocked"
    hw.rtc.value = NOW + 9 * 3600  # 19:00: the passage window is over
    _advance(hw, app, 6000)
    assert hw.actuator.moves == ["unlock", "lock"]
    # config change, window opens, window closes
    assert [e[4] for e in _events(app) if e[2] == "mode"] == ["passage", "passage", "normal"]
    # back to normal mode while a window is open: the hold ends at once
    hw.rtc.value = NOW
    _advance(hw, app, 500)
    assert hw.actuator.moves[-1] == "unlock"
    assert app.apply_config({"mode": "normal", "passage": [], "unlock_s": 5, "held_s": 30}) is None
    _advance(hw, app, 6000)
    assert hw.actuator.moves[-1] == "lock" and app.state_payload()["bolt"] == "locked"


def test_passage_windows_need_the_clock():
    d = fwenv.temp_dir()
    h = 3600
    mon = 1795392000
    site = Site(d, {"mode": "passage", "passage_windows": [[0x1F, 480, 1080]], "utc_offsets": [[0, 0]]})
    assert site.passage_active(mon + 10 * h)
    assert not site.passage_active(mon + 19 * h)
    assert not site.passage_active(mon + 5 * 86400 + 10 * h)  # Saturday
    assert not site.passage_active(None)  # unknown time: stay locked
    assert site.apply_config({"mode": "passage", "passage": [], "unlock_s": 5, "held_s": 30}) is None
    assert site.passage_active(None)  # passage with no windows: always
    assert Site(d, {}).mode == "passage"  # persisted in site.json
    with open(d + "/site.json", "w") as f:
        f.write("{not json")
    assert Site(d, {"mode": "normal"}).status == "corrupt"


def _ask(coroutine):
    return asyncio.run(coroutine)


def test_snapshot_and_delta_acks():
    hw, app = _app(now=NOW)
    base = app.store.version
    key5 = "0" * 31 + "5"
    assert _ask(app.apply_delta({"base": base + 7, "ver": base + 8, "add": [], "del": []})) == {
        "ver": base, "ok": False, "err": "base_mismatch", "need": "snapshot"}
    feeds = hw.watchdog.feeds
    delta = {"base": base, "ver": base + 1, "add": [[key5, 0, 0, 0, []]], "del": [fwenv.cred_key(1)[1]]}
    assert _ask(app.apply_delta(delta)) == {"ver": base + 1, "ok": True}
    assert hw.watchdog.feeds > feeds  # fed during the merge and the read-back check
    assert app.handle_tap("iso14443a", fwenv.uid(1)).reason == "unknown_credential"
    parts = _snapshot_payloads(5, [1, 2])
    assert _ask(app.apply_snapshot(parts[0])) == {"ver": 5, "ok": True}
    assert app.handle_tap("iso14443a", fwenv.uid(1)).granted
    bad = {"ver": 6, "i": 0, "of": 1, "e": [[key5, 9, 0, 0, []]]}
    assert _ask(app.apply_snapshot(bad)) == {"ver": 5, "ok": False, "err": "entry_role"}
    assert app.state_payload()["pv"] == 5


def test_events_payload_and_ack():
    hw, app = _app(now=NOW)
    for _ in range(3):
        app.handle_tap("iso14443a", fwenv.uid(999))
    payload = app.events_payload()
    assert payload["dropped"] == 0 and [e[0] for e in payload["ev"]] == [1, 2, 3, 4]
    # the batch is valid for the contract's "events" message
    wire = messages.encode("events", "lock-1", 1, 1, payload, b"k" * 32, NOW)
    assert len(wire) <= messages.MAX_MESSAGE_BYTES
    app.ack_events(4)
    assert app.events_payload() is None and app.hello_payload()["pending"] == 0


def test_unprovisioned_lock_denies_and_keeps_running():
    hw, app = _app(now=NOW, config={"site_key": "abc"}, provision=False)
    assert app.handle_tap("iso14443a", fwenv.uid(1)).reason == "not_provisioned"
    assert hw.actuator.moves == []


def test_failing_observer_does_not_break_the_tap_path():
    hw, app = _app(now=NOW)

    def broken(kind, fields):
        raise OSError("socket closed")

    hw.report = broken
    assert app.handle_tap("iso14443a", fwenv.uid(1)).granted
    assert hw.actuator.moves == ["unlock"]


def test_run_loop_serves_taps_and_survives_bad_reader_output():
    hw, app = _app(now=NOW)
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
