# Simulated devices for the unix port: reader, thumb-turn servo, door switch, exit button, LED/buzzer,
# watchdog and clock (a relay door's actuator is in hal/sim_relay.py). Each has the interface the core expects
# of its ESP32 counterpart (hw.reader.poll(), hw.actuator.move()...); what the world does to them arrives
# through the control channel (hal/sim_channel.py) and what they do is broadcast through
# `hw.broadcast(kind, fields)`. Where the board runs a driver over a pin (the PN532, the debounced door switch
# and exit button), the simulator runs the same driver over a simulated pin.
import time

from drivers.inputs import DebouncedButton, DebouncedSwitch
from drivers.pn532 import PN532, CardPoller
from drivers.pn532_uart import UARTTransport

from hal.sim_pn532 import SimPN532Port

TAP_QUEUE = 8  # taps waiting for the core; beyond it a tap is refused (reader_busy)


class SimReader:
    """hw.reader: cards tapped over the control channel, handed to the core one per poll().

    With sim_reader "pn532" (the default) cards and FeliCa IDms go through a simulated PN532 chip and our
    real PN532 driver (drivers/pn532.py), exactly as on the board; phone tokens, which a PN532 never
    reads, and everything with sim_reader "direct" are queued and handed over as they are.
    """

    def __init__(self, hw, use_pn532):
        self._taps = []
        self.dropped = 0
        self.chip = None
        self.poller = None
        if use_pn532:
            self.chip = SimPN532Port()
            transport = UARTTransport(self.chip)
            chip = PN532(transport, ack_timeout_ms=5, response_timeout_ms=10)
            self.poller = CardPoller(chip, hw.ticks_ms, hw.ticks_diff, wake=transport.wake)

    def tap(self, kind, uid):
        if self.chip is not None and kind in ("iso14443a", "felica"):
            accepted = self.chip.tap(kind, uid)
        elif len(self._taps) < TAP_QUEUE:
            self._taps.append((kind, uid))
            accepted = True
        else:
            accepted = False
        if not accepted:
            self.dropped += 1
        return accepted

    def poll(self):
        if self.poller is not None:
            found = self.poller.poll()
            if found is not None:
                return found
        return self._taps.pop(0) if self._taps else None


class SimActuator:
    """hw.actuator: a servo that reaches its end position travel_ms after a move, unless jammed."""

    def __init__(self, hw, travel_ms, confirms):
        self._hw = hw
        self.travel_ms = travel_ms
        self.confirms = confirms  # False: like a servo without feedback switches (answers None)
        self.position: str | None = "lock"  # where the thumb-turn rests; None while it moves
        self.target: str | None = None
        self.jammed = False
        self.moves = 0
        self._moved_at = 0

    def move(self, position):
        if position not in ("lock", "unlock"):
            raise ValueError("position must be 'lock' or 'unlock'")
        self.target = position
        self.position = None
        self.moves += 1
        self._moved_at = self._hw.ticks_ms()
        self._hw.broadcast("actuator", {"move": position, "jammed": self.jammed})

    def _arrived(self):
        if self.target is None or self.jammed:
            return False
        return self._hw.ticks_diff(self._hw.ticks_ms(), self._moved_at) >= self.travel_ms

    def step(self):
        if self._arrived():
            self.position, self.target = self.target, None
            self._hw.broadcast("actuator", {"at": self.position})

    def position_confirmed(self, position):
        if not self.confirms:
            return None
        self.step()
        return self.position == position


class SimPin:
    """A GPIO of the simulated board, with the machine.Pin calls the drivers use: value(), irq()."""

    def __init__(self, level):
        self.level = level
        self._handler = None

    def value(self, level=None):
        if level is None:
            return self.level
        self.level = level

    def irq(self, handler=None, trigger=None):
        self._handler = handler

    def drive(self, level):
        """The outside world sets an input's level; a change is an edge, which fires the interrupt."""
        if level != self.level:
            self.level = level
            if self._handler is not None:
                self._handler(self)


class SimDoor:
    """hw.door: a reed switch on a simulated pin, read through the board's debounce driver
    (drivers/inputs.py), so door_open_level and door_debounce_ms mean what they mean on the board."""

    def __init__(self, hw, open_level=1, debounce_ms=100):
        self.open = False  # the door itself, as the control channel last set it
        self.open_level = open_level
        self.pin = SimPin(1 - open_level)
        self.switch = DebouncedSwitch(self.pin, hw.ticks_ms, hw.ticks_diff, debounce_ms, open_level)
        self.pin.irq(self.switch.irq)

    def set_open(self, is_open):
        self.open = is_open
        self.pin.drive(self.open_level if is_open else 1 - self.open_level)

    def is_open(self):
        return self.switch.is_open()


class SimButton:
    """hw.exit_button: a push button on a simulated pin, read through the board's debounce driver. press()
    holds it down for press_ms (released by step(), from the housekeeping task); a press shorter than the
    debounce time is not counted, as on the board."""

    def __init__(self, hw, active=0, debounce_ms=50, press_ms=200):
        self._hw = hw
        self.active = active
        self.press_ms = press_ms
        self.pin = SimPin(1 - active)
        self.button = DebouncedButton(self.pin, hw.ticks_ms, hw.ticks_diff, debounce_ms, active)
        self.pin.irq(self.button.irq)
        self._pressed_at = None
        self._hold_ms = press_ms

    def press(self, hold_ms=None):
        self._hold_ms = self.press_ms if hold_ms is None else hold_ms
        self._pressed_at = self._hw.ticks_ms()
        self.pin.drive(self.active)

    def step(self):
        if self._pressed_at is None:
            return
        if self._hw.ticks_diff(self._hw.ticks_ms(), self._pressed_at) >= self._hold_ms:
            self._pressed_at = None
            self.pin.drive(1 - self.active)

    def take_press(self):
        self.step()
        return self.button.take_press()


class SimSignal:
    """hw.led / hw.buzzer: remembers and broadcasts the pattern."""

    def __init__(self, hw, name):
        self._hw = hw
        self._name = name
        self.pattern = None

    def show(self, pattern):
        self.pattern = pattern
        self._hw.broadcast(self._name, {"pattern": pattern})

    play = show


class SimWatchdog:
    """hw.watchdog: counts feeds; reports once if it would have reset a real board."""

    def __init__(self, hw, timeout_ms):
        self._hw = hw
        self.timeout_ms = timeout_ms
        self.started = False
        self.feeds = 0
        self.expired = False
        self._fed_at = 0

    def start(self):
        self.started = True
        self._fed_at = self._hw.ticks_ms()
        self._hw.broadcast("watchdog", {"started": True, "timeout_ms": self.timeout_ms})

    def feed(self):
        self.feeds += 1
        self._fed_at = self._hw.ticks_ms()
        self.expired = False

    def step(self):
        if not self.started or self.expired or self.timeout_ms <= 0:
            return
        if self._hw.ticks_diff(self._hw.ticks_ms(), self._fed_at) > self.timeout_ms:
            self.expired = True  # a board would reset here; the sim says so and keeps running
            self._hw.broadcast("watchdog", {"expired": True})


class SimRTC:
    """hw.rtc: unset (None) until the control channel or config sets it; then counts with ticks."""

    def __init__(self, hw, ntp_reachable=False):
        self._hw = hw
        self.ntp_reachable = ntp_reachable  # sim_ntp: an "NTP server" answering with the host's clock
        self._base = None
        self._base_ticks = 0

    def now(self):
        if self._base is None:
            return None
        return self._base + self._hw.ticks_diff(self._hw.ticks_ms(), self._base_ticks) // 1000

    def set(self, unix_seconds):
        self._base = int(unix_seconds)
        self._base_ticks = self._hw.ticks_ms()

    def ntp_now(self):
        return int(time.time()) if self.ntp_reachable else None

    def sync_ntp(self):
        unix = self.ntp_now()
        if unix is None:
            return False
        self.set(unix)
        return True
