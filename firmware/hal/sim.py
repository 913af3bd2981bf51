# Simulated hardware for the MicroPython unix port: the Hardware object the core drives, assembled from the
# simulated devices (hal/sim_devices.py) and driven over the control channel (hal/sim_channel.py): JSON lines
# over TCP on 127.0.0.1 (docs/SIMULATOR.md). Nothing here imports `machine`; the core cannot tell this
# Hardware object from the ESP32 one.
import asyncio
import os
import time

from hal.sim_channel import HISTORY_LINES, MAX_LINE_BYTES, CommandError, ControlChannel  # noqa: F401
from hal.sim_devices import (  # noqa: F401
    TAP_QUEUE,
    SimActuator,
    SimButton,
    SimDoor,
    SimReader,
    SimRTC,
    SimSignal,
    SimWatchdog,
)
from shared_schema.vocabulary import BOOT_REASONS

_HOUSEKEEPING_MS = 20
ACTUATORS = ("servo", "relay")
PULLS = ("up", "down", "none")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Hardware:
    """The simulated board. Attributes as in the core <-> HAL contract; None for anything not fitted."""

    def __init__(self, config):
        self.config = config
        self.host = config.get("sim_control_host", "127.0.0.1")
        if self.host not in _LOOPBACK:
            # Anyone who reaches this port can open the door: never listen beyond this machine.
            raise ValueError("sim_control_host must be a loopback address (127.0.0.1), not %r" % self.host)
        self.port = int(config.get("sim_control_port", 7700))
        self.data_dir = config.get("sim_data_dir") or config.get("data_dir") or "data"
        _make_dirs(self.data_dir)
        self._boot_reason = config.get("sim_boot_reason", "power_on")
        if self._boot_reason not in BOOT_REASONS:
            raise ValueError("sim_boot_reason must be one of " + ", ".join(BOOT_REASONS))
        self.channel = ControlChannel(self, self.host, self.port)
        self.reports = 0
        reader_kind = config.get("sim_reader", "pn532")
        if reader_kind not in ("pn532", "direct"):
            raise ValueError("sim_reader must be 'pn532' or 'direct', not %r" % (reader_kind,))
        self.reader = SimReader(self, reader_kind == "pn532")
        self.actuator_kind = config.get("actuator", "servo")
        self.actuator = _build_actuator(self, config)
        self.door = _build_door(self, config)
        self.exit_button = _build_exit_button(self, config)
        self.led = SimSignal(self, "led")
        self.buzzer = SimSignal(self, "buzzer")
        self.watchdog = SimWatchdog(self, int(config.get("wdt_ms", 8000)))
        self.rtc = SimRTC(self, bool(config.get("sim_ntp", False)))
        self.phone = _build_phone(self, config)
        initial_time = config.get("sim_time")
        if initial_time == "host":
            self.rtc.set(int(time.time()))
        elif isinstance(initial_time, int) and not isinstance(initial_time, bool):
            self.rtc.set(initial_time)
        self._started = False

    # --- contract methods ---

    def ticks_ms(self):
        return time.ticks_ms()

    def ticks_diff(self, a, b):
        return time.ticks_diff(a, b)

    def boot_reason(self):
        return self._boot_reason

    def ntp_time(self):
        """Unix seconds from "NTP" (the host clock, with sim_ntp only) or None; untrusted, as on a board."""
        return self.rtc.ntp_now()

    def report(self, kind, fields):
        self.reports += 1
        self.broadcast(kind, fields)

    async def start(self):
        if self._started:  # main.py and LockApp.run may both ask
            return
        await self.channel.start()
        self._started = True
        asyncio.create_task(self._housekeeping())

    # --- what the simulated board shows the world ---

    def broadcast(self, kind, fields):
        self.channel.broadcast(kind, fields)

    def handle_line(self, line):
        """One control-channel command line -> the reply object (never raises)."""
        return self.channel.handle_line(line)

    async def _housekeeping(self):
        while True:
            self.actuator.step()
            if self.exit_button is not None:
                self.exit_button.step()
            self.watchdog.step()
            await asyncio.sleep_ms(_HOUSEKEEPING_MS)

    def status(self):
        status = {
            "device_id": self.config.get("device_id"),
            "boot_reason": self._boot_reason,
            "actuator": self.actuator_kind,
            "position": self.actuator.position,
            "target": self.actuator.target,
            "jammed": self.actuator.jammed,
            "moves": self.actuator.moves,
            "door": None if self.door is None else ("open" if self.door.open else "closed"),
            "led": self.led.pattern,
            "buzzer": self.buzzer.pattern,
            "time": self.rtc.now(),
            "watchdog": {"started": self.watchdog.started, "feeds": self.watchdog.feeds,
                         "expired": self.watchdog.expired},
            "reports": self.reports,
            "taps_dropped": self.reader.dropped,
            "reader": "direct" if self.reader.poller is None else "pn532",
            "reader_errors": {} if self.reader.poller is None else self.reader.poller.errors,
        }
        if self.actuator_kind == "relay":
            status["relay"] = self.actuator.status()
        return status


def _fitted(config, sim_key, pin_key):
    # sim_door / sim_exit_button false, or the board key present as null (a board config run here): absent.
    return bool(config.get(sim_key, True)) and not (pin_key in config and config[pin_key] is None)


def _pull(config, key):
    # Not simulated electrically, but the same values are accepted and refused as on the board.
    pull = config.get(key, "up")
    if pull not in PULLS:
        raise ValueError("%s: use 'up', 'down' or 'none', not %r" % (key, pull))
    return pull


def _level(config, key, default):
    level = config.get(key, default)
    if isinstance(level, bool) or level not in (0, 1):
        raise ValueError("%s: 0 or 1, not %r" % (key, level))
    return level


def _build_actuator(hw, config):
    travel_ms = int(config.get("sim_travel_ms", 300))
    if hw.actuator_kind == "servo":
        return SimActuator(hw, travel_ms, bool(config.get("sim_actuator_confirms", True)))
    if hw.actuator_kind == "relay":
        from hal.sim_relay import SimRelayActuator

        return SimRelayActuator(hw, config, travel_ms)
    raise ValueError("config actuator: use one of %s, not %r" % (", ".join(ACTUATORS), hw.actuator_kind))


def _build_door(hw, config):
    if not _fitted(config, "sim_door", "door_pin"):
        return None
    _pull(config, "door_pull")
    return SimDoor(hw, _level(config, "door_open_level", 1), int(config.get("door_debounce_ms", 100)))


def _build_exit_button(hw, config):
    if not _fitted(config, "sim_exit_button", "exit_pin"):
        return None
    _pull(config, "exit_pull")
    return SimButton(hw, _level(config, "exit_active_level", 0), int(config.get("exit_debounce_ms", 50)),
                     int(config.get("sim_exit_press_ms", 200)))


def _build_phone(hw, config):
    # The BLE transport of phone keys, played over the control channel; sim_phone false: none fitted.
    if not config.get("sim_phone", True):
        return None
    from hal.sim_phone import SimPhone

    return SimPhone(hw)


def _make_dirs(path):
    # os.makedirs does not exist on MicroPython.
    parts = [part for part in path.split("/") if part]
    prefix = "/" if path.startswith("/") else ""
    for index in range(len(parts)):
        try:
            os.mkdir(prefix + "/".join(parts[: index + 1]))
        except OSError:  # already there
            pass


def build(config):
    return Hardware(config)
