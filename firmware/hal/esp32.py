# The ESP32 hardware: the ONLY module of the firmware that builds machine.* objects.
#
# build(config) returns the Hardware object the core drives (docs/HARDWARE.md: the contract, the wiring).
# Every pin and calibration value comes from config; the drivers below take these machine objects as
# plain arguments, so they also run on the unix port under test.
# Type-checked with mypy against micropython-esp32-stubs (tests/firmware/test_esp32_hal_types.py).
import asyncio
import json
import os
import time

import machine
import network
from drivers.inputs import DebouncedButton, DebouncedSwitch
from drivers.pn532 import PN532, CardPoller
from drivers.signals import BUZZER_PATTERNS, LED_PATTERNS, PatternPlayer

# Seconds from 1970-01-01 (Unix, what travels on the wire) to 2000-01-01 (the ESP32's epoch).
EPOCH_2000_OFFSET = 946684800
# Written into RTC memory when the clock is set; RTC memory and the RTC itself survive every reset
# except power loss, so after a watchdog or soft reset the clock is still known to be right.
_RTC_MARK = b"clk1"
_HOUSEKEEPING_MS = 20
BUZZER_FREQ_HZ = 2700
ACTUATORS = ("servo", "relay")
PULLS = ("up", "down", "none")
# GPIOs without internal pull resistors (input-only on the ESP32).
_NO_PULL_PINS = (34, 35, 36, 37, 38, 39)
# GPIOs a relay must not use: the strapping pins (0, 2, 5, 12, 15) and the pins the boot ROM drives
# (UART0 on 1 and 3, 14) can change level before the firmware runs, so a relay there may click at every
# reset; 6-11 belong to the flash; 34-39 cannot be outputs.
_RELAY_PINS_REFUSED = (0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15) + _NO_PULL_PINS
WIFI_CHECK_MS = 5000


def _epoch_offset() -> int:
    # 946684800 on the ESP32 (2000 epoch), 0 where time already counts from 1970.
    return EPOCH_2000_OFFSET if time.gmtime(0)[0] == 2000 else 0


def _pin_in(number: int, pull: str, pull_key: str) -> machine.Pin:
    # Switches and buttons usually pull the pin to GND and the internal pull-up holds it high otherwise
    # ("up", the default); "none" for an external resistor, and on GPIO34-39, which have no internal ones.
    if pull not in PULLS:
        raise ValueError("%s: use 'up', 'down' or 'none', not %r" % (pull_key, pull))
    if pull != "none" and number in _NO_PULL_PINS:
        raise ValueError("%s: GPIO%d has no internal pull resistor; set 'none', fit an external 10 kOhm one"
                         % (pull_key, number))
    if pull == "up":
        return machine.Pin(number, machine.Pin.IN, machine.Pin.PULL_UP)
    if pull == "down":
        return machine.Pin(number, machine.Pin.IN, machine.Pin.PULL_DOWN)
    # None is MicroPython's documented "no pull resistor" (both disabled); the ESP32 stubs type pull as int.
    return machine.Pin(number, machine.Pin.IN, None)  # type: ignore[arg-type]


def _level(config: dict, key: str, default: int) -> int:
    level = config.get(key, default)
    if isinstance(level, bool) or level not in (0, 1):
        raise ValueError("%s: 0 or 1, not %r" % (key, level))
    return level


class BuzzerOutput:
    """A passive piezo on PWM: value(1) sounds the tone, value(0) silences it."""

    def __init__(self, pin: int) -> None:
        self._pwm = machine.PWM(machine.Pin(pin), freq=BUZZER_FREQ_HZ, duty_u16=0)

    def value(self, level: int) -> None:
        self._pwm.duty_u16(32768 if level else 0)


class NoOutput:
    """LED or buzzer not fitted: patterns are still tracked, nothing is driven."""

    def value(self, level: int) -> None:
        pass


class Watchdog:
    """machine.WDT, started only when main.py asks (it cannot be stopped once running)."""

    def __init__(self, timeout_ms: int) -> None:
        self.timeout_ms = timeout_ms
        self._wdt: machine.WDT | None = None

    def start(self) -> None:
        if self._wdt is None and self.timeout_ms > 0:
            self._wdt = machine.WDT(timeout=self.timeout_ms)

    def feed(self) -> None:
        if self._wdt is not None:
            self._wdt.feed()


class Clock:
    """hw.rtc: Unix seconds (1970 epoch, UTC) or None while unset since power-on."""

    def __init__(self, ntp_host: str | None, reset_kept_time: bool) -> None:
        self._rtc = machine.RTC()
        self._ntp_host = ntp_host
        self._offset = _epoch_offset()
        self.valid = reset_kept_time and bytes(self._rtc.memory()[:4]) == _RTC_MARK

    def now(self) -> int | None:
        if not self.valid:
            return None
        return int(time.time()) + self._offset

    def set(self, unix_seconds: int) -> None:
        # gmtime: (year, month, mday, hour, minute, second, weekday, yearday[, isdst on some ports]);
        # machine.RTC.datetime takes (year, month, day, weekday, hours, minutes, seconds, subseconds).
        t = time.gmtime(int(unix_seconds) - self._offset)
        self._rtc.datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))
        self._mark()

    def ntp_now(self) -> int | None:
        """Ask the NTP server: Unix seconds, or None (no network, DNS failure, timeout). Sets nothing.

        Blocking (DNS plus up to ~1 s): never on the tap path. The caller (the network side) hands the
        result to the core, e.g. app.set_untrusted_time(unix, "ntp"), so the core knows the time's source.
        """
        try:
            import ntptime

            if self._ntp_host:
                ntptime.host = self._ntp_host
            return int(ntptime.time()) + self._offset  # ntptime counts from the board's epoch
        except Exception:  # noqa: BLE001 - any network failure leaves the clock as it was
            return None

    def sync_ntp(self) -> bool:
        """Set the RTC from NTP (blocking, see ntp_now); True when it was set."""
        unix = self.ntp_now()
        if unix is None:
            return False
        self.set(unix)
        return True

    def _mark(self) -> None:
        self.valid = True
        self._rtc.memory(_RTC_MARK)


class WiFi:
    """The station interface: joins wifi_ssid and keeps trying while the link is down.

    WLAN.connect() returns at once and the join runs in the background, so nothing here waits on the radio;
    keep_up() looks every WIFI_CHECK_MS and starts a new join when the last one ended without a connection.
    """

    def __init__(self, ssid: str, password: str | None) -> None:
        self.ssid = ssid
        self._password = password
        self._wlan = network.WLAN(network.STA_IF)
        self.joins = 0

    def start(self) -> None:
        self._wlan.active(True)
        self._join()

    def is_up(self) -> bool:
        return self._wlan.isconnected()

    def dns_server(self) -> str | None:
        # The DHCP answer's DNS server (ifconfig: ip, netmask, gateway, dns), for net.dns.
        if not self._wlan.isconnected():
            return None
        server = self._wlan.ifconfig()[3]
        return server if server and server != "0.0.0.0" else None

    def check(self) -> None:
        if self._wlan.isconnected() or self._wlan.status() == network.STAT_CONNECTING:
            return
        self._wlan.disconnect()  # ends a failed attempt (wrong password, AP gone) before the next one
        self._join()

    def _join(self) -> None:
        self.joins += 1
        if self._password:
            self._wlan.connect(self.ssid, self._password)
        else:
            self._wlan.connect(self.ssid)

    async def keep_up(self) -> None:
        while True:
            await asyncio.sleep_ms(WIFI_CHECK_MS)
            try:
                self.check()
            except OSError:  # the radio refused a command (mid-reconnect): look again next time
                pass


_RESET_CAUSES = (
    ("PWRON_RESET", "power_on"),
    ("HARD_RESET", "hard"),
    ("WDT_RESET", "watchdog"),
    ("DEEPSLEEP_RESET", "deep_sleep"),
    ("SOFT_RESET", "soft"),
)


def boot_reason() -> str:
    cause = machine.reset_cause()
    for constant, reason in _RESET_CAUSES:
        if getattr(machine, constant, None) == cause:
            return reason
    return "unknown"


class Hardware:
    """What the core sees. None for anything not fitted."""

    def __init__(self, config: dict) -> None:
        # The actuator first, before anything else touches the board: a relay pin left energised by a soft
        # reset is released here, and nothing built later can fail before the actuator is in a safe state.
        self.actuator = _build_actuator(config)
        self.config = config
        self.data_dir: str = config.get("data_dir") or "/data"
        _make_dir(self.data_dir)
        self._boot_reason = boot_reason()
        self.rtc = Clock(config.get("ntp_host"), self._boot_reason in ("watchdog", "soft", "deep_sleep"))
        self.watchdog = Watchdog(int(config.get("wdt_ms", 8000)))
        self.reader = _build_reader(config)
        self.door = _build_door(config)
        self.exit_button = _build_exit_button(config)
        self.led = _build_player(config.get("led_pin"), LED_PATTERNS, _led_output)
        self.buzzer = _build_player(config.get("buzzer_pin"), BUZZER_PATTERNS, BuzzerOutput)
        ssid = config.get("wifi_ssid")
        self.wifi = WiFi(ssid, config.get("wifi_password")) if ssid else None
        self.phone = _build_phone(config)
        self._started = False

    def ticks_ms(self):  # opaque ticks value, compare with ticks_diff
        return time.ticks_ms()

    def ticks_diff(self, a: int, b: int) -> int:
        return time.ticks_diff(a, b)

    def boot_reason(self) -> str:
        return self._boot_reason

    # --- the network side's hooks (firmware/net never imports network or machine) ---

    def network_ready(self) -> bool:
        return self.wifi is not None and self.wifi.is_up()

    def dns_server(self) -> str | None:
        return None if self.wifi is None else self.wifi.dns_server()

    def ntp_time(self) -> int | None:
        """Unix seconds from NTP, or None. UNTRUSTED (unauthenticated): the core decides what it may be used
        for (docs/PROTOCOL.md "Time and freshness"). Blocks up to about a second: never on the tap path."""
        return self.rtc.ntp_now() if self.network_ready() else None

    def report(self, kind: str, fields: dict) -> None:
        # On the board, reports go to the serial console (mpremote / a USB cable shows them).
        try:
            print(json.dumps({"report": kind, "data": fields}))
        except (TypeError, ValueError):
            print("report", kind, "(not JSON-serialisable)")

    async def start(self) -> None:
        if self._started:  # main.py and LockApp.run may both ask
            return
        self._started = True
        asyncio.create_task(self._housekeeping())
        if self.wifi is not None:
            self.wifi.start()
            asyncio.create_task(self.wifi.keep_up())

    async def _housekeeping(self) -> None:
        # Blink/beep patterns, releasing the servo after its hold time, ending a relay pulse: every 20 ms.
        while True:
            self.led.step()
            self.buzzer.step()
            self.actuator.step()
            await asyncio.sleep_ms(_HOUSEKEEPING_MS)


def _make_dir(path: str) -> None:
    try:
        os.mkdir(path)
    except OSError:  # already there
        pass


def _led_output(pin: int) -> machine.Pin:
    return machine.Pin(pin, machine.Pin.OUT, value=0)


def _build_player(pin: int | None, patterns: dict, make_output) -> PatternPlayer:
    output = NoOutput() if pin is None else make_output(pin)
    return PatternPlayer(output, patterns, time.ticks_ms, time.ticks_diff)


def _build_actuator(config: dict):
    kind = config.get("actuator", "servo")
    if kind == "servo":
        return _build_servo(config)
    if kind == "relay":
        return _build_relay(config)
    raise ValueError("config actuator: use one of %s, not %r" % (", ".join(ACTUATORS), kind))


def _build_servo(config: dict):
    from drivers.servo import PWM_FREQ_HZ, Servo, ThumbTurn

    # duty 0: no pulses, so the servo holds no position and nothing moves until the first command.
    pwm = machine.PWM(machine.Pin(config["servo_pin"]), freq=PWM_FREQ_HZ, duty_ns=0)
    servo = Servo(pwm, int(config.get("servo_min_us", 500)), int(config.get("servo_max_us", 2500)))
    pull = config.get("servo_feedback_pull", "up")
    lock_pin = config.get("servo_feedback_pin")
    unlock_pin = config.get("servo_unlock_feedback_pin")
    return ThumbTurn(
        servo,
        int(config["servo_lock_angle"]),
        int(config["servo_unlock_angle"]),
        time.ticks_ms,
        time.ticks_diff,
        lock_switch=None if lock_pin is None else _pin_in(lock_pin, pull, "servo_feedback_pull"),
        unlock_switch=None if unlock_pin is None else _pin_in(unlock_pin, pull, "servo_feedback_pull"),
        switch_active=_level(config, "servo_feedback_active", 0),
        hold_ms=int(config.get("servo_hold_ms", 1500)),
    )


def _relay_pin_number(config: dict) -> int:
    number = config["relay_pin"]
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 39:
        raise ValueError("relay_pin: a GPIO number, not %r" % (number,))
    if number in _RELAY_PINS_REFUSED:
        raise ValueError("relay_pin: GPIO%d is a strapping, boot-driven, flash or input-only pin; use one of "
                         "4, 13, 16-19, 21-23, 25-27, 32, 33" % number)
    return number


def _build_relay(config: dict):
    from drivers import relay

    number = _relay_pin_number(config)
    active = relay.active_level(config)
    # Level first, then direction, in one call (the ESP32 port sets the value before the mode): the pin
    # becomes an output already at the released level, with no instant at any other level.
    pin = machine.Pin(number, machine.Pin.OUT, value=1 - active)
    mode, pulse_ms, fail_safe, locked_level = relay.settings(config)
    feedback_pin = config.get("relay_feedback_pin")
    feedback = None
    if feedback_pin is not None:
        feedback = _pin_in(feedback_pin, config.get("relay_feedback_pull", "up"), "relay_feedback_pull")
    return relay.Relay(pin, active, time.ticks_ms, time.ticks_diff, mode, pulse_ms, fail_safe, feedback,
                       locked_level)


def _build_reader(config: dict) -> CardPoller | None:
    kind = config.get("reader", "pn532_i2c")
    if kind == "none":
        return None
    # Only the transport the reader is wired for is imported (each is a few KB of heap when not frozen).
    if kind == "pn532_i2c":
        from drivers.pn532_i2c import I2CTransport

        i2c = machine.I2C(
            int(config.get("i2c_id", 0)),
            scl=machine.Pin(config.get("i2c_scl", 22)),
            sda=machine.Pin(config.get("i2c_sda", 21)),
            freq=int(config.get("i2c_freq", 100000)),
        )
        return CardPoller(PN532(I2CTransport(i2c)))
    if kind == "pn532_uart":
        from drivers.pn532_uart import UARTTransport

        uart = machine.UART(
            int(config.get("uart_id", 2)),
            baudrate=115200,
            tx=int(config.get("uart_tx", 17)),
            rx=int(config.get("uart_rx", 16)),
            timeout=0,
        )
        transport = UARTTransport(uart)
        return CardPoller(PN532(transport), wake=transport.wake)
    raise ValueError("config reader: use 'pn532_i2c', 'pn532_uart' or 'none', not %r" % (kind,))


def _build_door(config: dict) -> DebouncedSwitch | None:
    number = config.get("door_pin")
    if number is None:
        return None
    pin = _pin_in(number, config.get("door_pull", "up"), "door_pull")
    door = DebouncedSwitch(pin, time.ticks_ms, time.ticks_diff, int(config.get("door_debounce_ms", 100)),
                           _level(config, "door_open_level", 1))
    pin.irq(handler=door.irq, trigger=machine.Pin.IRQ_FALLING | machine.Pin.IRQ_RISING)
    return door


def _build_exit_button(config: dict) -> DebouncedButton | None:
    number = config.get("exit_pin")
    if number is None:
        return None
    pin = _pin_in(number, config.get("exit_pull", "up"), "exit_pull")
    button = DebouncedButton(pin, time.ticks_ms, time.ticks_diff, int(config.get("exit_debounce_ms", 50)),
                             _level(config, "exit_active_level", 0))
    pin.irq(handler=button.irq, trigger=machine.Pin.IRQ_FALLING | machine.Pin.IRQ_RISING)
    return button


def _build_phone(config: dict):
    # Phones with mobile keys over BLE (hal/esp32_ble.py), only when the config asks: the BLE stack takes RAM.
    if not config.get("ble_phone_keys", False):
        return None
    from hal import esp32_ble

    return esp32_ble.build(config)


def build(config: dict) -> Hardware:
    return Hardware(config)
