# micropython-test heapsize=136K
# heapsize 136K (120K is the least that passes): host-only simulator code, compiled from source with drivers.
# The simulated HAL on the real MicroPython interpreter: control commands and their refusals, the
# simulated servo (confirms after its travel time, or jams), the unset-until-set clock, and the TCP
# control channel itself (replies, broadcasts to every client, garbage and over-long lines survived).
import sys

if "firmware" not in sys.path:
    sys.path.insert(0, "firmware")

import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

from hal import (  # noqa: E402
    HalError,
    build,
    sim,  # noqa: E402
)


def _port():
    raw = os.urandom(2)
    return 20000 + ((raw[0] << 8) | raw[1]) % 20000


def _config(**overrides):
    gc.collect()  # each test starts from a collected heap: the big allocations below need contiguous blocks
    config = {"hal": "sim", "device_id": "sim-test", "sim_data_dir": "/tmp/simhal_%d" % _port(),
              "sim_control_port": _port(), "sim_travel_ms": 30, "sim_reader": "direct"}
    config.update(overrides)
    return config


def _reply(hw, obj):
    line = obj if isinstance(obj, (bytes, str)) else json.dumps(obj)
    return hw.handle_line(line)


# --- commands without the network ---------------------------------------------------------------


def test_tap_queues_a_card_for_the_core():
    hw = build(_config())
    assert hw.reader.poll() is None
    assert _reply(hw, {"cmd": "tap", "kind": "felica", "uid": "01:2E:4C:D8:12:34:56:78", "id": 7}) == {
        "reply": "tap", "ok": True, "id": 7}
    assert _reply(hw, {"cmd": "tap", "uid": "04a1b2c3"})["ok"]  # kind defaults to iso14443a
    assert hw.reader.poll() == ("felica", b"\x01\x2e\x4c\xd8\x12\x34\x56\x78")
    assert hw.reader.poll() == ("iso14443a", b"\x04\xa1\xb2\xc3")
    assert hw.reader.poll() is None


def test_bad_commands_get_specific_errors():
    hw = build(_config())
    cases = (
        (b"{not json", "bad_json"),
        (b"", "empty_line"),
        (b"[1, 2]", "not_an_object"),
        ({"cmd": "fly"}, "unknown_command"),
        ({"nocmd": 1}, "unknown_command"),
        ({"cmd": "tap", "kind": "magstripe", "uid": "0102"}, "bad_kind"),
        ({"cmd": "tap", "uid": "zz"}, "bad_uid"),
        ({"cmd": "tap", "uid": 1234}, "bad_uid"),
        ({"cmd": "tap", "uid": "0102030405"}, "bad_uid_length"),
        ({"cmd": "tap", "kind": "felica", "uid": "01020304"}, "bad_uid_length"),
        ({"cmd": "door", "open": "yes"}, "bad_field"),
        ({"cmd": "jam"}, "bad_field"),
        ({"cmd": "set_time", "unix": "now"}, "bad_field"),
        ({"cmd": "set_time", "unix": -5}, "bad_field"),
        ({"cmd": "set_time", "unix": 99999999999999999999999}, "bad_field"),
        ({"cmd": "set_time", "unix": 1e9}, "bad_field"),
        (b"[" * 400 + b"]" * 400, "not_an_object"),
        ({"cmd": "tap", "kind": ["iso14443a"], "uid": "04a1b2c3"}, "bad_kind"),
        ({"cmd": {"nested": 1}}, "unknown_command"),
    )
    for line, code in cases:
        reply = _reply(hw, line)
        assert reply.get("error") == code, (line, reply)
    assert hw.reader.poll() is None  # nothing bad reached the reader


def _poll_until_card(hw, limit_ms=3000):
    waited = 0
    while waited < limit_ms:
        found = hw.reader.poll()
        if found is not None:
            return found
        time.sleep_ms(10)
        waited += 10
    return None


def test_pn532_reader_runs_the_real_driver_against_a_simulated_chip():
    hw = build(_config(sim_reader="pn532"))
    assert _reply(hw, {"cmd": "tap", "uid": "04a1b2c3d4e5f6"})["ok"]
    assert _poll_until_card(hw) == ("iso14443a", b"\x04\xa1\xb2\xc3\xd4\xe5\xf6")
    assert hw.reader.poller.firmware == (0x32, 1, 6, 7)  # the driver initialised the chip
    assert hw.reader.chip.commands >= 4  # SAMConfiguration, GetFirmwareVersion, RFConfiguration, a poll
    assert _reply(hw, {"cmd": "tap", "kind": "felica", "uid": "012e4cd812345678"})["ok"]
    assert _poll_until_card(hw) == ("felica", b"\x01\x2e\x4c\xd8\x12\x34\x56\x78")
    assert _reply(hw, {"cmd": "tap", "uid": "a1b2c3d4"})["ok"]  # 4-byte UID
    assert _poll_until_card(hw) == ("iso14443a", b"\xa1\xb2\xc3\xd4")
    assert hw.reader.poller.errors == {}, hw.reader.poller.errors
    assert hw.status()["reader"] == "pn532"


def test_pn532_reader_reports_a_card_once_per_tap():
    hw = build(_config(sim_reader="pn532"))
    _reply(hw, {"cmd": "tap", "uid": "04a1b2c3"})
    _reply(hw, {"cmd": "tap", "uid": "04a1b2c3"})  # the same card, tapped again
    seen = []
    for _ in range(150):
        found = hw.reader.poll()
        if found:
            seen.append(found)
        time.sleep_ms(10)
    assert seen == [("iso14443a", b"\x04\xa1\xb2\xc3")] * 2, seen


def test_phone_tokens_bypass_the_pn532():
    hw = build(_config(sim_reader="pn532"))
    token = "00112233445566778899aabbccddeeff"
    assert _reply(hw, {"cmd": "tap", "kind": "phone", "uid": token})["ok"]
    assert hw.reader.poll() == ("phone", bytes(range(0, 256, 17)))


def test_tap_queue_is_bounded():
    hw = build(_config())
    for _ in range(sim.TAP_QUEUE):
        assert _reply(hw, {"cmd": "tap", "uid": "04a1b2c3"})["ok"]
    assert _reply(hw, {"cmd": "tap", "uid": "04a1b2c3"})["error"] == "reader_busy"
    assert hw.reader.dropped == 1


def test_door_and_exit_button():
    hw = build(_config(door_debounce_ms=20, exit_debounce_ms=20))
    assert hw.door.is_open() is False
    assert _reply(hw, {"cmd": "door", "open": True})["ok"]
    time.sleep_ms(30)
    assert hw.door.is_open() is True
    assert not hw.exit_button.take_press()
    assert _reply(hw, {"cmd": "exit"})["ok"]
    time.sleep_ms(30)
    assert hw.exit_button.take_press() and not hw.exit_button.take_press()
    assert hw.status()["door"] == "open"


def test_door_and_button_go_through_the_board_debounce():
    # The same drivers as on the board, over simulated pins: a level only counts once it has stayed put for
    # the debounce time, and a press shorter than that is no press (the long debounce keeps this robust).
    hw = build(_config(door_debounce_ms=400, exit_debounce_ms=400, door_open_level=0, exit_active_level=1))
    assert hw.door.pin.value() == 1 and hw.exit_button.pin.value() == 0  # closed / released levels
    _reply(hw, {"cmd": "door", "open": True})
    assert hw.door.pin.value() == 0 and hw.door.is_open() is False  # not yet: still within the debounce
    _reply(hw, {"cmd": "exit", "ms": 5})
    assert hw.exit_button.pin.value() == 1
    time.sleep_ms(410)
    assert hw.door.is_open() is True
    assert not hw.exit_button.take_press()  # released after 5 ms, long before the debounce time ended
    assert hw.exit_button.pin.value() == 0
    for bad in ({"cmd": "exit", "ms": 0}, {"cmd": "exit", "ms": "long"}, {"cmd": "exit", "ms": 10001}):
        assert _reply(hw, bad)["error"] == "bad_field", bad


def test_door_and_button_settings_are_checked_like_the_board():
    for overrides, text in (({"door_pull": "sideways"}, "door_pull"), ({"exit_pull": 1}, "exit_pull"),
                            ({"door_open_level": 2}, "door_open_level"),
                            ({"exit_active_level": True}, "exit_active_level")):
        try:
            build(_config(**overrides))
        except HalError as exc:
            assert text in str(exc), exc
            continue
        raise AssertionError("accepted %r" % (overrides,))
    hw = build(_config(door_pin=None, exit_pin=None))  # a board config that has neither
    assert hw.door is None and hw.exit_button is None


def test_unfitted_door_and_button():
    hw = build(_config(sim_door=False, sim_exit_button=False))
    assert hw.door is None and hw.exit_button is None
    assert _reply(hw, {"cmd": "door", "open": True})["error"] == "not_fitted"
    assert _reply(hw, {"cmd": "exit"})["error"] == "not_fitted"


def test_actuator_confirms_after_travel_time():
    hw = build(_config(sim_travel_ms=40))
    assert hw.actuator.position_confirmed("lock") is True  # rests locked at boot
    hw.actuator.move("unlock")
    assert hw.actuator.position_confirmed("unlock") is False
    assert hw.actuator.position_confirmed("lock") is False  # moving: at neither end
    time.sleep_ms(50)
    assert hw.actuator.position_confirmed("unlock") is True


def test_jammed_actuator_never_confirms_until_freed():
    hw = build(_config(sim_travel_ms=10))
    assert _reply(hw, {"cmd": "jam", "on": True})["ok"]
    hw.actuator.move("unlock")
    time.sleep_ms(30)
    assert hw.actuator.position_confirmed("unlock") is False
    assert _reply(hw, {"cmd": "jam", "on": False})["ok"]
    assert hw.actuator.position_confirmed("unlock") is True


def test_actuator_without_feedback_cannot_tell():
    hw = build(_config(sim_actuator_confirms=False))
    hw.actuator.move("lock")
    assert hw.actuator.position_confirmed("lock") is None


def test_clock_unset_until_set():
    hw = build(_config())
    assert hw.rtc.now() is None
    assert _reply(hw, {"cmd": "set_time", "unix": 1767225600})["time"] == 1767225600
    assert hw.rtc.now() in (1767225600, 1767225601)
    assert build(_config(sim_time=1800000000)).rtc.now() in (1800000000, 1800000001)
    assert build(_config(sim_time="host")).rtc.now() > 1700000000


def test_ntp_only_when_configured_reachable():
    hw = build(_config())
    assert hw.rtc.ntp_now() is None and hw.rtc.sync_ntp() is False and hw.rtc.now() is None
    hw = build(_config(sim_ntp=True))
    assert hw.rtc.ntp_now() > 1700000000
    assert hw.rtc.sync_ntp() is True and hw.rtc.now() > 1700000000


def test_boot_reason_and_data_dir_from_config():
    config = _config(sim_boot_reason="watchdog")
    hw = build(config)
    assert hw.boot_reason() == "watchdog"
    assert hw.data_dir == config["sim_data_dir"]
    os.stat(hw.data_dir)  # created
    nested = "/tmp/simhal_%d/a/b" % _port()
    assert build(_config(sim_data_dir=nested)).data_dir == nested
    os.stat(nested)


def test_bad_hardware_config_is_refused_clearly():
    for overrides, text in (
        ({"sim_boot_reason": "meteor"}, "sim_boot_reason"),
        ({"sim_control_host": "0.0.0.0"}, "loopback"),
        ({"hal": "arduino"}, "config hal"),
        ({"sim_reader": "mfrc522"}, "sim_reader"),
    ):
        try:
            build(_config(**overrides))
        except HalError as exc:
            assert text in str(exc), exc
            continue
        raise AssertionError("accepted %r" % (overrides,))


# --- over TCP ----------------------------------------------------------------------------------


async def _read_json(reader, timeout_ms=2000):
    line = await asyncio.wait_for_ms(reader.readline(), timeout_ms)
    assert line, "connection closed"
    return json.loads(line)


async def _read_until(reader, predicate, limit=40):
    seen = []
    for _ in range(limit):
        obj = await _read_json(reader)
        seen.append(obj)
        if predicate(obj):
            return obj, seen
    raise AssertionError("not seen: %r" % (seen,))


async def _channel_session():
    hw = build(_config(sim_travel_ms=20))
    await hw.start()
    await hw.start()  # a second start is harmless
    reader, writer = await asyncio.open_connection("127.0.0.1", hw.port)
    other_reader, other_writer = await asyncio.open_connection("127.0.0.1", hw.port)
    hello = await _read_json(reader)
    assert hello["report"] == "hello" and hello["data"]["position"] == "lock", hello
    await _read_json(other_reader)

    writer.write(b"this is not json\n")
    await writer.drain()
    assert (await _read_json(reader))["error"] == "bad_json"

    writer.write(b"x" * 3000 + b"\n")  # over-long line: refused, connection kept
    await writer.drain()
    assert (await _read_json(reader))["error"] == "line_too_long"

    writer.write(b'{"cmd": "tap", "uid": "04a1b2c3d4e5f6"}\n{"cmd": "ping", "id": "p1"}\n')
    await writer.drain()
    assert (await _read_json(reader)) == {"reply": "tap", "ok": True}
    assert (await _read_json(reader)) == {"reply": "ping", "ok": True, "id": "p1"}
    assert hw.reader.poll() == ("iso14443a", b"\x04\xa1\xb2\xc3\xd4\xe5\xf6")

    # What the core reports and every actuator move reach every client.
    hw.report("decision", {"granted": True, "reason": "ok"})
    hw.actuator.move("unlock")
    for stream in (reader, other_reader):
        decision, _ = await _read_until(stream, lambda o: o.get("report") == "decision")
        assert decision["data"] == {"granted": True, "reason": "ok"}
        moved, _ = await _read_until(stream, lambda o: o.get("report") == "actuator")
        assert moved["data"] == {"move": "unlock", "jammed": False}
        # the housekeeping task reports arrival without anyone asking
        arrived, _ = await _read_until(stream, lambda o: o.get("report") == "actuator")
        assert arrived["data"] == {"at": "unlock"}

    # One client going away does not disturb the other.
    other_writer.close()
    await other_writer.wait_closed()
    await asyncio.sleep_ms(50)
    writer.write(b'{"cmd": "status"}\n')
    await writer.drain()
    status, _ = await _read_until(reader, lambda o: o.get("reply") == "status")
    assert status["status"]["position"] == "unlock" and status["status"]["moves"] == 1
    writer.close()
    await writer.wait_closed()
    return hw


def test_control_channel_over_tcp():
    hw = asyncio.run(_channel_session())
    assert hw.reports == 1


def test_history_keeps_reports_made_before_anyone_connected():
    hw = build(_config())
    hw.report("event", {"type": "boot", "reason": "power_on"})
    for index in range(sim.HISTORY_LINES + 5):
        hw.report("bolt", {"n": index})
    reports = _reply(hw, {"cmd": "history"})["reports"]
    assert len(reports) == sim.HISTORY_LINES
    assert reports[-1] == {"report": "bolt", "data": {"n": sim.HISTORY_LINES + 4}}
    assert reports[0]["data"]["n"] == 5  # the oldest dropped first
