# micropython-test heapsize=176K
# heapsize 176K (passes from 152K up): the simulator, the drivers and, for the last test, the
# whole core compile from source here.
# The simulator's relay door ("actuator": "relay") on the real MicroPython interpreter: the board's relay
# driver on a simulated output pin, its level reported over the control channel, the simulated lock-state
# contact (and the jam command on it), and the same relay_* config checks as on the board.
import sys

if "firmware" not in sys.path:
    sys.path.insert(0, "firmware")

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

from hal import HalError, build  # noqa: E402

RELAY = {"actuator": "relay", "relay_pin": 32, "relay_mode": "hold", "relay_active_high": True,
         "relay_fail_safe": False}


def _port():
    raw = os.urandom(2)
    return 20000 + ((raw[0] << 8) | raw[1]) % 20000


def _config(**overrides):
    config = {"hal": "sim", "device_id": "sim-relay", "sim_data_dir": "/tmp/simrelay_%d" % _port(),
              "sim_control_port": _port(), "sim_travel_ms": 30, "sim_reader": "direct"}
    config.update(RELAY)
    config.update(overrides)
    return config


class Recorder:
    """Stands in for the control channel's broadcast: keeps every report."""

    def __init__(self, hw):
        self.reports = []
        hw.broadcast = lambda kind, fields: self.reports.append((kind, fields))

    def of(self, kind):
        return [fields for k, fields in self.reports if k == kind]


def test_relay_door_starts_released_and_reports_its_level():
    hw = build(_config(relay_active_high=False))
    seen = Recorder(hw)
    status = hw.status()
    assert status["actuator"] == "relay" and status["moves"] == 0
    assert status["relay"] == {"mode": "hold", "active_high": False, "level": 1, "energised": False,
                               "pulses": 0, "fail_safe": False, "feedback": False}, status["relay"]
    assert hw.actuator.position_confirmed("unlock") is None  # no lock-state contact configured
    hw.actuator.move("unlock")
    assert seen.of("actuator") == [{"move": "unlock", "jammed": False}]
    assert seen.of("relay") == [{"level": 0, "energised": True}]
    hw.actuator.move("lock")
    assert seen.of("relay")[-1] == {"level": 1, "energised": False}
    assert hw.status()["position"] == "lock" and hw.status()["moves"] == 2


def test_pulse_mode_releases_by_itself():
    hw = build(_config(relay_mode="pulse", relay_pulse_ms=40))
    seen = Recorder(hw)
    assert hw.actuator.momentary is True
    hw.actuator.move("unlock")
    assert hw.actuator.driver.energised()
    time.sleep_ms(50)
    hw.actuator.step()  # the housekeeping task's call
    assert seen.of("relay") == [{"level": 1, "energised": True}, {"level": 0, "energised": False}]
    assert hw.status()["relay"]["pulses"] == 1


def test_lock_state_contact_follows_the_relay_unless_jammed():
    hw = build(_config(relay_feedback_pin=33, sim_travel_ms=20))
    seen = Recorder(hw)
    assert hw.status()["relay"]["feedback"] is True
    assert hw.actuator.position_confirmed("lock") is True
    hw.actuator.move("unlock")
    assert hw.actuator.position_confirmed("unlock") is False  # still travelling
    time.sleep_ms(30)
    assert hw.actuator.position_confirmed("unlock") is True
    assert {"at": "unlock"} in seen.of("actuator") and hw.status()["position"] == "unlock"
    assert hw.handle_line(json.dumps({"cmd": "jam", "on": True}))["ok"]
    hw.actuator.move("lock")
    time.sleep_ms(30)
    assert hw.actuator.position_confirmed("lock") is False  # the bolt is stuck: the core will say jammed
    assert hw.handle_line(json.dumps({"cmd": "jam", "on": False}))["ok"]
    time.sleep_ms(30)
    assert hw.actuator.position_confirmed("lock") is True


def test_relay_config_is_checked_as_on_the_board():
    for overrides, text in (({"relay_active_high": None}, "relay_active_high"),
                            ({"relay_mode": "latch"}, "relay_mode"),
                            ({"relay_fail_safe": 0}, "relay_fail_safe"),
                            ({"relay_pulse_ms": 1}, "relay_pulse_ms"),
                            ({"actuator": "solenoid"}, "actuator")):
        try:
            build(_config(**overrides))
        except HalError as exc:
            assert text in str(exc), exc
            continue
        raise AssertionError("accepted %r" % (overrides,))


async def _read_json(reader, timeout_ms=3000):
    line = await asyncio.wait_for_ms(reader.readline(), timeout_ms)
    assert line, "connection closed"
    return json.loads(line)


async def _read_until(reader, predicate, limit=60):
    seen = []
    for _ in range(limit):
        obj = await _read_json(reader)
        seen.append(obj)
        if predicate(obj):
            return obj, seen
    raise AssertionError("not seen: %r" % (seen,))


def _relay_report(energised):
    return lambda o: o.get("report") == "relay" and o["data"]["energised"] is energised


async def _relay_door_over_tcp(LockApp):
    # The whole lock on the simulated relay door: the exit button pulses an automatic door's contact, and
    # a client on the control channel sees the relay's level go and come back.
    # held longer than a poll period plus the debounce time, or a press can fall between two polls
    # sim_phone false: no phone transport, so the phone code (tested in mp_test_sim_phone.py) is not compiled
    config = _config(relay_mode="pulse", relay_pulse_ms=60, exit_debounce_ms=10, sim_exit_press_ms=150,
                     site_key="000102030405060708090a0b0c0d0e0f", sim_phone=False)
    hw = build(config)
    app = LockApp(hw, config)
    runner = asyncio.create_task(app.run())
    await asyncio.sleep_ms(20)
    reader, writer = await asyncio.open_connection("127.0.0.1", hw.port)
    hello = await _read_json(reader)
    assert hello["data"]["actuator"] == "relay" and hello["data"]["relay"]["energised"] is False, hello
    writer.write(b'{"cmd": "exit"}\n')
    await writer.drain()
    on, seen = await _read_until(reader, _relay_report(True))
    off, more = await _read_until(reader, _relay_report(False))
    events = [o["data"]["type"] for o in seen + more if o.get("report") == "event"]
    assert "exit_request" in events, events
    writer.close()
    await writer.wait_closed()
    runner.cancel()
    return hw


def test_relay_door_over_the_control_channel():
    import gc

    gc.collect()
    from core.app import LockApp  # the whole core compiles from source here: before the loop, not in it

    asyncio.new_event_loop()
    hw = asyncio.run(_relay_door_over_tcp(LockApp))
    assert hw.actuator.driver.pulses == 1
