# micropython-test
# Servo / thumb-turn, debounced inputs and LED/buzzer patterns on the real MicroPython interpreter, with
# fake pins, a fake PWM and a hand-driven clock (the ESP32 HAL hands in machine.Pin / machine.PWM).
import sys

if "firmware" not in sys.path:
    sys.path.insert(0, "firmware")

from drivers.inputs import DebouncedButton, DebouncedSwitch  # noqa: E402
from drivers.servo import Servo, ThumbTurn  # noqa: E402
from drivers.signals import BUZZER_PATTERNS, LED_PATTERNS, PATTERN_NAMES, PatternPlayer  # noqa: E402


class Clock:
    def __init__(self):
        self.now = 1000

    def ticks_ms(self):
        return self.now

    def ticks_diff(self, a, b):
        return a - b


class FakePWM:
    def __init__(self):
        self.duties = []

    def duty_ns(self, value):
        self.duties.append(value)


class FakePin:
    def __init__(self, level=1):
        self.level = level
        self.writes = []

    def value(self, level=None):
        if level is None:
            return self.level
        self.level = level
        self.writes.append(level)


def _raises_value_error(func, *args, **kwargs):
    try:
        func(*args, **kwargs)
    except ValueError:
        return
    raise AssertionError("expected ValueError")


# --- servo -------------------------------------------------------------------------------------------


def test_pulse_width_follows_the_calibrated_range():
    servo = Servo(FakePWM(), min_us=500, max_us=2500)
    assert servo.pulse_ns(0) == 500000
    assert servo.pulse_ns(90) == 1500000
    assert servo.pulse_ns(180) == 2500000
    assert servo.pulse_ns(-20) == 500000 and servo.pulse_ns(400) == 2500000  # clamped
    narrow = Servo(FakePWM(), min_us=1000, max_us=2000)
    assert narrow.pulse_ns(45) == 1250000


def test_bad_servo_calibration_is_refused():
    _raises_value_error(Servo, FakePWM(), 2500, 500)
    _raises_value_error(Servo, FakePWM(), 0, 2000)
    clock = Clock()
    _raises_value_error(ThumbTurn, Servo(FakePWM()), 10, 10, clock.ticks_ms, clock.ticks_diff)
    _raises_value_error(ThumbTurn, Servo(FakePWM()), 10, 200, clock.ticks_ms, clock.ticks_diff)


def test_thumb_turn_moves_to_calibrated_angles_and_releases_after_hold():
    pwm, clock = FakePWM(), Clock()
    turn = ThumbTurn(Servo(pwm), 10, 100, clock.ticks_ms, clock.ticks_diff, hold_ms=500)
    turn.move("unlock")
    assert pwm.duties == [Servo(FakePWM()).pulse_ns(100)]
    clock.now += 499
    turn.step()
    assert len(pwm.duties) == 1
    clock.now += 1
    turn.step()
    assert pwm.duties[-1] == 0  # released: no pulses
    turn.move("lock")
    assert pwm.duties[-1] == Servo(FakePWM()).pulse_ns(10)
    _raises_value_error(turn.move, "open")


def test_end_position_feedback():
    clock = Clock()
    lock_switch = FakePin(1)  # pulled up; closes to GND (0) at the lock end
    turn = ThumbTurn(Servo(FakePWM()), 10, 100, clock.ticks_ms, clock.ticks_diff, lock_switch=lock_switch)
    assert turn.position_confirmed("lock") is False
    lock_switch.level = 0
    assert turn.position_confirmed("lock") is True
    assert turn.position_confirmed("unlock") is None  # no switch there: cannot tell
    bare = ThumbTurn(Servo(FakePWM()), 10, 100, clock.ticks_ms, clock.ticks_diff)
    assert bare.position_confirmed("lock") is None


# --- debounced inputs ----------------------------------------------------------------------------


def test_exit_button_press_counts_once_after_bounce():
    clock, pin = Clock(), FakePin(1)
    button = DebouncedButton(pin, clock.ticks_ms, clock.ticks_diff, debounce_ms=50, active=0)
    assert not button.take_press()
    # A bouncing press: several edges within a few ms, each only latched by the IRQ.
    for level in (0, 1, 0, 1, 0):
        pin.level = level
        button.irq(pin)
        clock.now += 3
    assert not button.take_press()  # still bouncing
    clock.now += 50
    assert button.take_press()
    assert not button.take_press()  # once per press


def test_exit_button_glitch_is_not_a_press():
    clock, pin = Clock(), FakePin(1)
    button = DebouncedButton(pin, clock.ticks_ms, clock.ticks_diff, debounce_ms=50, active=0)
    pin.level = 0
    button.irq(pin)
    clock.now += 2
    pin.level = 1
    button.irq(pin)
    clock.now += 60
    assert not button.take_press()


def test_door_switch_settles_before_changing():
    clock, pin = Clock(), FakePin(0)  # 0: magnet at the reed, door closed
    door = DebouncedSwitch(pin, clock.ticks_ms, clock.ticks_diff, debounce_ms=100, open_level=1)
    assert door.is_open() is False
    pin.level = 1
    door.irq(pin)
    clock.now += 50
    assert door.is_open() is False
    clock.now += 60
    assert door.is_open() is True
    pin.level = 0
    door.irq(pin)
    clock.now += 100
    assert door.is_open() is False


# --- LED / buzzer patterns -------------------------------------------------------------------------


def test_every_core_pattern_exists_for_led_and_buzzer():
    for name in PATTERN_NAMES:
        assert name in LED_PATTERNS and name in BUZZER_PATTERNS, name


def test_one_shot_pattern_falls_back_to_resting_pattern():
    clock, pin = Clock(), FakePin(0)
    led = PatternPlayer(pin, LED_PATTERNS, clock.ticks_ms, clock.ticks_diff)
    led.show("offline")
    led.show("granted")
    assert pin.level == 1 and led.current == "granted"
    for _ in range(30):
        clock.now += 100
        led.step()
    assert led.current == "offline"  # the resting pattern chosen before


def test_unknown_pattern_is_counted_not_raised():
    clock, pin = Clock(), FakePin(0)
    buzzer = PatternPlayer(pin, BUZZER_PATTERNS, clock.ticks_ms, clock.ticks_diff)
    buzzer.play("fanfare")
    assert buzzer.unknown == 1 and buzzer.current is None
    buzzer.step()  # nothing to play: no error


def test_repeating_pattern_toggles_output():
    clock, pin = Clock(), FakePin(0)
    led = PatternPlayer(pin, LED_PATTERNS, clock.ticks_ms, clock.ticks_diff)
    led.show("jammed")
    for _ in range(10):
        clock.now += 100
        led.step()
    assert pin.writes.count(1) >= 5 and pin.writes.count(0) >= 5
    assert led.current == "jammed"
