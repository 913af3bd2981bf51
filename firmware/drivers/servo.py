# Hobby servo that turns the thumb-turn, and the actuator object the core drives (hw.actuator).
#
# A servo wants one pulse every 20 ms (50 Hz); the pulse width picks the angle, from min_us at 0 degrees to
# max_us at range_deg. Each servo differs a little, so lock/unlock angles and the pulse range are
# calibrated per installation (docs/HARDWARE.md) and come from config.
# Only needs an object with duty_ns(ns) (machine.PWM on the ESP32; a recorder in tests).

PWM_FREQ_HZ = 50
LOCK = "lock"
UNLOCK = "unlock"
POSITIONS = (LOCK, UNLOCK)


class Servo:
    def __init__(self, pwm, min_us=500, max_us=2500, range_deg=180):
        if not 0 < min_us < max_us <= 20000:
            raise ValueError("servo pulse range: need 0 < servo_min_us < servo_max_us <= 20000")
        self._pwm = pwm
        self.min_us = min_us
        self.max_us = max_us
        self.range_deg = range_deg
        self.angle = None

    def pulse_ns(self, angle):
        """Pulse width in ns for an angle in degrees (clamped to the servo's range)."""
        angle = max(0, min(self.range_deg, angle))
        span_us = self.max_us - self.min_us
        return int((self.min_us + span_us * angle / self.range_deg) * 1000)

    def go(self, angle):
        self.angle = angle
        self._pwm.duty_ns(self.pulse_ns(angle))

    def release(self):
        # No pulses: the servo stops holding, so the thumb-turn can still be turned by hand from inside.
        self._pwm.duty_ns(0)


class ThumbTurn:
    """hw.actuator: move(position) starts a motion; position_confirmed(position) -> True/False/None.

    End-position feedback is optional: a switch closed at the lock end and/or one at the unlock end
    (objects with value()). Without a switch for a position the answer is None ("cannot tell").
    After hold_ms the servo is released (step() is called by the HAL's housekeeping task).
    """

    def __init__(self, servo, lock_angle, unlock_angle, ticks_ms, ticks_diff, lock_switch=None,
                 unlock_switch=None, switch_active=0, hold_ms=1500):
        for angle in (lock_angle, unlock_angle):
            if not 0 <= angle <= servo.range_deg:
                raise ValueError("servo angles must lie within 0..%d degrees" % servo.range_deg)
        if lock_angle == unlock_angle:
            raise ValueError("servo_lock_angle and servo_unlock_angle must differ")
        self._servo = servo
        self._angles = {LOCK: lock_angle, UNLOCK: unlock_angle}
        self._switches = {LOCK: lock_switch, UNLOCK: unlock_switch}
        self._active = switch_active
        self._ticks_ms = ticks_ms
        self._ticks_diff = ticks_diff
        self.hold_ms = hold_ms
        self.target = None
        self._moved_at = None

    def move(self, position):
        if position not in POSITIONS:
            raise ValueError("position must be 'lock' or 'unlock'")
        self.target = position
        self._moved_at = self._ticks_ms()
        self._servo.go(self._angles[position])

    def position_confirmed(self, position):
        switch = self._switches.get(position)
        if switch is None:
            return None
        return switch.value() == self._active

    def step(self):
        if self._moved_at is not None and self._ticks_diff(self._ticks_ms(), self._moved_at) >= self.hold_ms:
            self._moved_at = None
            self._servo.release()
