# micropython-test heapsize=184K
# heapsize 184K (it was 176K before the BLE phone service and the phone reasons; 168K fails):
# the HAL, drivers and the whole core compile from source here.
# The ESP32 HAL executed on the real MicroPython interpreter over a stand-in
# `machine` module (tests/firmware/fake_board): config -> pins, PWM duty for the calibrated angles, IRQ
# debounce, PN532 over the I2C and UART buses, RTC epoch handling, NTP, boot reasons, and the real core's
# LockApp on top of it. The same file is type-checked against the ESP32 stubs (test_esp32_hal_types.py).
import sys

for _path in ("tests/firmware/fake_board", "firmware"):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import machine  # noqa: E402  (the stand-in)
import network  # noqa: E402  (the stand-in)
import ntptime  # noqa: E402
from drivers import servo  # noqa: E402, F401  (the HAL imports it when it builds a servo: compiled first here)
from hal import esp32  # noqa: E402

from tests.firmware.pn532_fakes import FakeI2C, FakeUART, frame  # noqa: E402

ACK = frame("00 00 FF 00 FF 00")
INIT_SCRIPT = [
    (frame("00 00 FF 05 FB D4 14 01 14 01 02 00"), ACK + frame("00 00 FF 02 FE D5 15 16 00")),
    (frame("00 00 FF 02 FE D4 02 2A 00"), ACK + frame("00 00 FF 06 FA D5 03 32 01 06 07 E8 00")),
    (frame("00 00 FF 06 FA D4 32 05 FF 01 01 F4 00"), ACK + frame("00 00 FF 02 FE D5 33 F8 00")),
]
LIST_A = frame("00 00 FF 04 FC D4 4A 01 00 E1 00")
TARGET_A4 = frame("00 00 FF 0C F4 D5 4B 01 01 00 04 08 04 A1 B2 C3 D4 E4 00")


def _config(**overrides):
    with open("firmware/config.example.json") as f:
        config = json.load(f)
    config["data_dir"] = "/tmp/esp32hal_%d" % (os.urandom(1)[0] * 256 + os.urandom(1)[0])
    config.update(overrides)
    return config


def _fresh_board(cause=machine.PWRON_RESET):
    machine.created.clear()
    machine.writes.clear()
    gc.collect()
    machine.Pin.levels.clear()
    machine.reset_cause_value = cause
    machine.I2C.bus = None
    machine.UART.port = None


def _created(kind):
    return [obj for obj in machine.created if isinstance(obj, kind)]


def test_builds_every_part_from_config():
    _fresh_board()
    hw = esp32.build(_config())
    pwms = _created(machine.PWM)
    assert pwms[0].pin.number == 13 and pwms[0].freq == 50  # the servo
    assert pwms[1].pin.number == 25  # the buzzer
    i2c = _created(machine.I2C)[0]
    assert (i2c.id, i2c.scl.number, i2c.sda.number, i2c.freq) == (0, 22, 21, 100000)
    door_pin = [p for p in _created(machine.Pin) if p.number == 27][0]
    assert door_pin.pull == machine.Pin.PULL_UP and door_pin.handler is not None
    assert hw.door is not None and hw.exit_button is not None and hw.reader is not None
    assert hw.boot_reason() == "power_on"
    os.stat(hw.data_dir)


def test_unfitted_parts_are_none():
    _fresh_board()
    hw = esp32.build(_config(door_pin=None, exit_pin=None, reader="none", buzzer_pin=None))
    assert hw.door is None and hw.exit_button is None and hw.reader is None
    hw.buzzer.play("granted")  # silent, but no error


def test_servo_duty_for_calibrated_angles_then_release():
    _fresh_board()
    hw = esp32.build(_config(servo_lock_angle=10, servo_unlock_angle=100, servo_hold_ms=30))
    servo_pwm = _created(machine.PWM)[0]
    assert servo_pwm.duties_ns == [0]  # built idle: nothing moves at boot
    hw.actuator.move("unlock")
    assert abs(servo_pwm.duties_ns[-1] - 1611111) <= 1  # 500 us + 2000 us * 100/180
    hw.actuator.move("lock")
    assert abs(servo_pwm.duties_ns[-1] - 611111) <= 1
    time.sleep_ms(40)
    hw.actuator.step()
    assert servo_pwm.duties_ns[-1] == 0
    assert hw.actuator.position_confirmed("lock") is None  # no feedback switch configured


def test_feedback_switch_confirms_lock_position():
    _fresh_board()
    hw = esp32.build(_config(servo_feedback_pin=33))
    machine.Pin.levels[33] = 1
    assert hw.actuator.position_confirmed("lock") is False
    machine.Pin.levels[33] = 0
    assert hw.actuator.position_confirmed("lock") is True


def test_exit_button_irq_latches_and_debounces():
    _fresh_board()
    hw = esp32.build(_config(exit_debounce_ms=20))
    pin = [p for p in _created(machine.Pin) if p.number == 26][0]
    pin.drive(0)
    pin.drive(1)
    pin.drive(0)  # bounce
    assert not hw.exit_button.take_press()
    time.sleep_ms(30)
    assert hw.exit_button.take_press() and not hw.exit_button.take_press()


def test_door_switch_irq():
    _fresh_board()
    machine.Pin.levels[27] = 0  # closed at boot
    hw = esp32.build(_config(door_debounce_ms=20))
    assert hw.door.is_open() is False
    pin = [p for p in _created(machine.Pin) if p.number == 27][0]
    pin.drive(1)
    time.sleep_ms(30)
    assert hw.door.is_open() is True


def test_pn532_on_i2c_reads_a_card():
    _fresh_board()
    machine.I2C.bus = FakeI2C(INIT_SCRIPT + [(LIST_A, ACK + TARGET_A4)])
    hw = esp32.build(_config())
    hw.reader.retry_ms = 0
    found = None
    for _ in range(4):
        found = hw.reader.poll() or found
    assert found == ("iso14443a", b"\xa1\xb2\xc3\xd4"), (found, hw.reader.errors)
    assert hw.reader.firmware == (0x32, 1, 6, 7)


def test_pn532_on_uart_is_woken_first():
    _fresh_board()
    port = FakeUART([(None, b"")] + INIT_SCRIPT + [(LIST_A, ACK + TARGET_A4)])
    machine.UART.port = port
    hw = esp32.build(_config(reader="pn532_uart"))
    hw.reader.retry_ms = 0
    found = None
    for _ in range(4):
        found = hw.reader.poll() or found
    assert port.written[0][:2] == b"\x55\x55"  # the HSU wake-up preamble came first
    assert found == ("iso14443a", b"\xa1\xb2\xc3\xd4"), (found, hw.reader.errors)


def test_missing_reader_never_raises():
    _fresh_board()
    hw = esp32.build(_config())  # no I2C bus answers
    hw.reader.retry_ms = 0
    for _ in range(3):
        assert hw.reader.poll() is None
    assert hw.reader.errors


def test_rtc_unset_at_power_on_and_set_in_2000_epoch_terms():
    _fresh_board()
    machine.RTC._memory = b""
    hw = esp32.build(_config())
    assert hw.rtc.now() is None
    hw.rtc.set(1767225600)  # 2026-01-01 00:00:00 UTC, a Thursday
    assert machine.RTC.datetimes[-1] == (2026, 1, 1, 3, 0, 0, 0, 0)
    assert hw.rtc.now() is not None
    # The unix port counts from 1970: no offset here; on the board gmtime(0) is 2000 -> +946684800.
    assert esp32._epoch_offset() == 0 and esp32.EPOCH_2000_OFFSET == 946684800


def test_rtc_stays_valid_across_watchdog_reset_not_power_on():
    _fresh_board()
    machine.RTC._memory = b""
    esp32.build(_config()).rtc.set(1767225600)
    _fresh_board(machine.WDT_RESET)
    assert esp32.build(_config()).rtc.now() is not None
    _fresh_board(machine.PWRON_RESET)
    assert esp32.build(_config()).rtc.now() is None


def test_ntp_sync_success_and_failure():
    _fresh_board()
    machine.RTC._memory = b""
    hw = esp32.build(_config(ntp_host="ntp.example.org"))
    ntptime.fail = True
    assert hw.rtc.ntp_now() is None
    assert hw.rtc.sync_ntp() is False and hw.rtc.now() is None
    ntptime.fail = False
    ntptime.now = 1767225600
    assert hw.rtc.ntp_now() == 1767225600  # Unix seconds (no epoch offset on this port)
    assert hw.rtc.sync_ntp() is True and hw.rtc.now() is not None
    assert machine.RTC.datetimes[-1] == (2026, 1, 1, 3, 0, 0, 0, 0)
    assert ntptime.calls[-1] == "ntp.example.org"


def test_no_wifi_configured_means_no_network():
    _fresh_board()
    hw = esp32.build(_config(wifi_ssid=None))
    assert hw.wifi is None and hw.network_ready() is False
    assert hw.dns_server() is None and hw.ntp_time() is None


def _wifi_board(**overrides):
    _fresh_board()
    network.aps.clear()
    network.aps["door-net"] = "wifi-pass"
    network.in_range = True
    hw = esp32.build(_config(wifi_ssid="door-net", **overrides))
    hw.wifi.start()
    return hw, network.instances[-1]


def test_wifi_joins_the_configured_network_as_a_station():
    hw, wlan = _wifi_board(wifi_password="wifi-pass")
    assert wlan.interface_id == network.STA_IF and wlan.active()
    assert wlan.connects == [("door-net", "wifi-pass")]
    assert hw.network_ready() is True and hw.dns_server() == network.dns


def test_wifi_reconnects_after_the_access_point_is_lost():
    hw, wlan = _wifi_board(wifi_password="wifi-pass")
    wlan.drop()
    network.in_range = False
    assert hw.network_ready() is False and hw.dns_server() is None
    hw.wifi.check()  # out of range: the attempt fails, the next check tries again
    assert len(wlan.connects) == 2 and hw.network_ready() is False
    network.in_range = True
    hw.wifi.check()
    assert len(wlan.connects) == 3 and hw.network_ready() is True
    hw.wifi.check()  # connected: nothing to do
    assert len(wlan.connects) == 3 and wlan.disconnects == 2


def test_wifi_with_a_wrong_password_keeps_trying_without_blocking():
    hw, wlan = _wifi_board(wifi_password="not-it")
    assert hw.network_ready() is False
    for _ in range(3):
        hw.wifi.check()
    assert len(wlan.connects) == 4 and hw.network_ready() is False


def test_ntp_time_is_only_asked_with_the_network_up():
    hw, wlan = _wifi_board(wifi_password="wifi-pass", ntp_host="ntp.example.org")
    ntptime.fail = False
    ntptime.now = 1767225600
    calls = len(ntptime.calls)
    assert hw.ntp_time() == 1767225600 and len(ntptime.calls) == calls + 1
    assert hw.rtc.now() is None  # asked, not set: the caller decides what untrusted time may do
    wlan.drop()
    assert hw.ntp_time() is None and len(ntptime.calls) == calls + 1
    ntptime.fail = True
    wlan.connect("door-net", "wifi-pass")
    assert hw.ntp_time() is None


def test_boot_reasons():
    for cause, reason in ((machine.PWRON_RESET, "power_on"), (machine.WDT_RESET, "watchdog"),
                          (machine.SOFT_RESET, "soft"), (machine.HARD_RESET, "hard"),
                          (machine.DEEPSLEEP_RESET, "deep_sleep"), (99, "unknown")):
        _fresh_board(cause)
        assert esp32.boot_reason() == reason


def test_watchdog_only_when_started():
    _fresh_board()
    hw = esp32.build(_config(wdt_ms=8000))
    hw.watchdog.feed()
    assert not _created(machine.WDT)
    hw.watchdog.start()
    hw.watchdog.start()
    hw.watchdog.feed()
    wdts = _created(machine.WDT)
    assert len(wdts) == 1 and wdts[0].timeout == 8000 and wdts[0].feeds == 1
    _fresh_board()
    hw = esp32.build(_config(wdt_ms=0))  # development: never started
    hw.watchdog.start()
    assert not _created(machine.WDT)


def test_led_pattern_drives_the_pin():
    _fresh_board()
    hw = esp32.build(_config())
    hw.led.show("granted")
    assert machine.Pin.levels[2] == 1
    hw.buzzer.play("granted")
    assert _created(machine.PWM)[1].duties_u16[-1] > 0


def test_bad_config_is_refused_by_name():
    from hal import HalError, build

    _fresh_board()
    for overrides, text in (({"reader": "rc522"}, "reader"), ({"servo_lock_angle": 300}, "angles"),
                            ({"servo_min_us": 3000}, "servo_min_us")):
        try:
            build(_config(**overrides))
        except HalError as exc:
            assert text in str(exc), exc
            continue
        raise AssertionError("accepted %r" % (overrides,))
    config = _config()
    del config["servo_pin"]
    try:
        build(config)
    except HalError as exc:
        assert "servo_pin" in str(exc), exc
    else:
        raise AssertionError("accepted a config without servo_pin")


def test_core_runs_on_the_esp32_hal():
    _fresh_board()  # collects garbage first: the core compiles from source here
    from core.app import LockApp

    machine.I2C.bus = FakeI2C(INIT_SCRIPT)
    hw = esp32.build(_config(site_key="000102030405060708090a0b0c0d0e0f"))
    servo_pwm = _created(machine.PWM)[0]
    app = LockApp(hw, hw.config)
    assert servo_pwm.duties_ns == [0]  # the core's start never moves the thumb-turn
    machine.Pin.levels[26] = 0
    hw.exit_button.irq()
    time.sleep_ms(60)
    for _ in range(3):
        app.step()
    assert servo_pwm.duties_ns[-1] > 0  # the exit button turned the servo to unlock
    gc.collect()
    print("heap free after LockApp on the ESP32 HAL:", gc.mem_free())
