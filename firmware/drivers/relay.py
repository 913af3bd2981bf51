# A relay output as the lock's actuator (hw.actuator), for electric strikes, electric locks and the
# activation contact of an automatic door: the same interface as the servo's ThumbTurn (move,
# position_confirmed, step), so the core's state machine (core/thumbturn.py) drives either.
#
# Modes (docs/HARDWARE.md has the wiring of each):
#   hold   the relay is energised while the lock is unlocked and released when it locks: a fail-secure
#          strike on the NO contact, a fail-safe strike or magnetic lock on the NC contact, an electric
#          lock's "unlock" input. A power cut or reset of the ESP32 always releases the relay.
#   pulse  every unlock energises it for pulse_ms, then releases it: an automatic door's activation
#          input, or an electric lock that relocks itself. A lock command ends a pulse at once.
#
# The pin is any object with value(); the HAL builds it as an output already at the inactive level
# (machine.Pin(n, Pin.OUT, value=inactive): level first, then direction, in one call), so no level that
# energises the relay ever appears at boot. This driver writes the inactive level again at construction.
# Optional feedback: a lock-state contact (bolt or latch monitor) read with value(); without it
# position_confirmed() answers None ("cannot tell") and the core counts a move as done.

LOCK = "lock"
UNLOCK = "unlock"
POSITIONS = (LOCK, UNLOCK)
HOLD = "hold"
PULSE = "pulse"
MODES = (HOLD, PULSE)
PULSE_MS_DEFAULT = 500
PULSE_MS_RANGE = (20, 30000)


def _flag(config, key):
    """config[key] as a bool that must be given explicitly: a wrong default here could unlock a door."""
    value = config.get(key)
    if value is not True and value is not False:
        raise ValueError("%s: say true or false explicitly (docs/HARDWARE.md, relay wiring)" % key)
    return value


def active_level(config):
    """The pin level that energises the relay (relay_active_high), needed before the pin is touched."""
    return 1 if _flag(config, "relay_active_high") else 0


def settings(config):
    """(mode, pulse_ms, fail_safe, feedback_locked_level) from config; ValueError naming the key."""
    mode = config.get("relay_mode")
    if mode not in MODES:
        raise ValueError("relay_mode: use 'hold' or 'pulse', not %r" % (mode,))
    pulse_ms = config.get("relay_pulse_ms", PULSE_MS_DEFAULT)
    low, high = PULSE_MS_RANGE
    if isinstance(pulse_ms, bool) or not isinstance(pulse_ms, int) or not low <= pulse_ms <= high:
        raise ValueError("relay_pulse_ms: an integer from %d to %d, not %r" % (low, high, pulse_ms))
    fail_safe = _flag(config, "relay_fail_safe")
    locked_level = config.get("relay_feedback_locked_level", 0)
    if locked_level not in (0, 1) or isinstance(locked_level, bool):
        raise ValueError("relay_feedback_locked_level: 0 or 1, not %r" % (locked_level,))
    return mode, pulse_ms, fail_safe, locked_level


class Relay:
    """hw.actuator: move(position) switches the relay; position_confirmed(position) -> True/False/None.

    target is the commanded position (LOCK from construction: the relay rests released). A position
    other than the commanded one is never confirmed, so a lock-state contact that shows "unlocked" while
    the relay is released (door open, bolt not in its keeper) is not taken for an unlocked lock.
    """

    def __init__(self, pin, active, ticks_ms, ticks_diff, mode=HOLD, pulse_ms=PULSE_MS_DEFAULT,
                 fail_safe=False, feedback=None, feedback_locked_level=0):
        if mode not in MODES:
            raise ValueError("relay_mode: use 'hold' or 'pulse'")
        self._pin = pin
        self.active = active
        self.inactive = 1 - active
        self._pin.value(self.inactive)
        self._ticks_ms = ticks_ms
        self._ticks_diff = ticks_diff
        self.mode = mode
        self.pulse_ms = pulse_ms
        # Declared by the installer, reported, never acted on: does the lock open when its own power fails?
        self.fail_safe = fail_safe
        self._feedback = feedback
        self._locked_level = feedback_locked_level
        # The core re-sends unlock to a momentary actuator on every unlock command (a pulse per tap).
        self.momentary = mode == PULSE
        self.target = LOCK
        self.pulses = 0
        self._pulse_at = None

    def energised(self):
        return self._pin.value() == self.active

    def move(self, position):
        if position not in POSITIONS:
            raise ValueError("position must be 'lock' or 'unlock'")
        self.target = position
        if position == LOCK:
            self._pulse_at = None
            self._pin.value(self.inactive)
            return
        if self.mode == PULSE:
            self._pulse_at = self._ticks_ms()
            self.pulses += 1
        self._pin.value(self.active)

    def step(self):
        """Ends a pulse once pulse_ms have passed (called by the HAL's housekeeping task and the core)."""
        if self._pulse_at is not None and self._ticks_diff(self._ticks_ms(), self._pulse_at) >= self.pulse_ms:
            self._pulse_at = None
            self._pin.value(self.inactive)

    def position_confirmed(self, position):
        self.step()
        if self._feedback is None:
            return None
        if position != self.target:
            return False
        locked = self._feedback.value() == self._locked_level
        return locked if position == LOCK else not locked
