# The simulator's relay door ("actuator": "relay"): the board's relay driver (drivers/relay.py) on a simulated
# output pin whose level changes are broadcast, and an optional simulated lock-state contact. Imported by
# hal/sim.py only for a relay door, as the board loads drivers/relay.py only then.
from drivers import relay


class SimRelayOutput:
    """The relay's output pin: built at the released level (as machine.Pin(n, Pin.OUT, value=inactive)),
    and every level change is broadcast as a "relay" report."""

    def __init__(self, hw, active):
        self._hw = hw
        self.active = active
        self.level = 1 - active
        self.changes = 0

    def value(self, level=None):
        if level is None:
            return self.level
        if level != self.level:
            self.level = level
            self.changes += 1
            self._hw.broadcast("relay", {"level": level, "energised": level == self.active})


class SimLockContact:
    """A lock-state contact (relay_feedback_pin): shows unlocked travel_ms after the relay energises and
    locked travel_ms after it releases; frozen while the actuator is jammed."""

    def __init__(self, owner, output, locked_level, travel_ms):
        self._owner = owner
        self._output = output
        self.locked_level = locked_level
        self.travel_ms = travel_ms
        self.locked = True
        self._energised = False
        self._changed_at = 0

    def step(self):
        hw = self._owner.hw
        energised = self._output.level == self._output.active
        if energised != self._energised:
            self._energised = energised
            self._changed_at = hw.ticks_ms()
        if self._owner.jammed or self.locked != energised:
            return
        if hw.ticks_diff(hw.ticks_ms(), self._changed_at) >= self.travel_ms:
            self.locked = not energised
            hw.broadcast("actuator", {"at": "lock" if self.locked else "unlock"})

    def value(self):
        self.step()
        return self.locked_level if self.locked else 1 - self.locked_level


class SimRelayActuator:
    """hw.actuator with "actuator": "relay": the board's relay driver (drivers/relay.py) on a simulated output
    pin, configured by the same relay_* keys; a relay_feedback_pin (any number) adds a simulated lock-state
    contact. Moves are broadcast as for the servo ("actuator" reports), the pin level as "relay" reports."""

    def __init__(self, hw, config, travel_ms):
        self.hw = hw
        active = relay.active_level(config)
        self.output = SimRelayOutput(hw, active)
        mode, pulse_ms, fail_safe, locked_level = relay.settings(config)
        self.contact = None
        if config.get("relay_feedback_pin") is not None:
            self.contact = SimLockContact(self, self.output, locked_level, travel_ms)
        self.driver = relay.Relay(self.output, active, hw.ticks_ms, hw.ticks_diff, mode, pulse_ms, fail_safe,
                                  self.contact, locked_level)
        self.momentary = self.driver.momentary
        self.jammed = False
        self.moves = 0

    @property
    def target(self):
        return self.driver.target

    @property
    def position(self):
        # Where the lock is, as far as anyone can tell: the contact if fitted, else what the relay commands.
        if self.contact is not None:
            return "lock" if self.contact.locked else "unlock"
        return self.driver.target

    def move(self, position):
        if position not in relay.POSITIONS:
            raise ValueError("position must be 'lock' or 'unlock'")
        self.moves += 1
        self.hw.broadcast("actuator", {"move": position, "jammed": self.jammed})
        self.driver.move(position)

    def position_confirmed(self, position):
        return self.driver.position_confirmed(position)

    def step(self):
        self.driver.step()
        if self.contact is not None:
            self.contact.step()

    def status(self):
        return {"mode": self.driver.mode, "active_high": self.output.active == 1, "level": self.output.level,
                "energised": self.driver.energised(), "pulses": self.driver.pulses,
                "fail_safe": self.driver.fail_safe, "feedback": self.contact is not None}
