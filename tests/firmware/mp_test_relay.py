# micropython-test
# The relay actuator (drivers/relay.py) on the real MicroPython interpreter with a recording pin and a
# hand-driven clock: hold and pulse modes at either active level, the lock-state contact, its config
# checks, and the core's thumb-turn state machine driving it (a pulse per unlock, auto-lock, jam, forced).
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
from tests.firmware import fwenv, fwhw  # noqa: F401 (fwenv: the import path)

from core import thumbturn as tt
from drivers import relay


class RecordingPin:
    """An output pin that remembers every level written to it."""

    def __init__(self, level):
        self.level = level
        self.writes = []

    def value(self, level=None):
        if level is None:
            return self.level
        self.level = level
        self.writes.append(level)


class Contact:
    def __init__(self, level):
        self.level = level

    def value(self):
        return self.level


def _relay(active=1, mode=relay.HOLD, pulse_ms=500, feedback=None, locked_level=0):
    clock = fwhw.FakeTime(0)
    pin = RecordingPin(1 - active)
    driver = relay.Relay(pin, active, clock.ticks_ms, clock.ticks_diff, mode, pulse_ms, False, feedback,
                         locked_level)
    return clock, pin, driver


def _raises_value_error(func, *args):
    try:
        func(*args)
    except ValueError as exc:
        return str(exc)
    raise AssertionError("expected ValueError")


# --- the driver ----------------------------------------------------------------------------------------


def test_hold_mode_energises_while_unlocked_at_either_active_level():
    for active in (1, 0):
        clock, pin, driver = _relay(active=active)
        assert pin.writes == [1 - active] and not driver.energised()  # released again at construction
        driver.move("unlock")
        clock.ms += 60000
        driver.step()
        assert pin.level == active and driver.energised()  # held: no time limit in hold mode
        driver.move("lock")
        assert pin.writes == [1 - active, active, 1 - active] and not driver.energised()
        assert driver.momentary is False


def test_pulse_mode_releases_after_pulse_ms_and_each_unlock_pulses_again():
    clock, pin, driver = _relay(active=0, mode=relay.PULSE, pulse_ms=300)
    assert driver.momentary is True
    driver.move("unlock")
    assert pin.level == 0
    clock.ms = 299
    driver.step()
    assert pin.level == 0
    clock.ms = 300
    driver.step()
    assert pin.level == 1 and driver.pulses == 1
    driver.move("unlock")
    assert pin.level == 0 and driver.pulses == 2
    clock.ms = 450
    driver.move("lock")  # a lock command cuts a pulse short
    assert pin.level == 1
    clock.ms = 5000
    driver.step()
    assert pin.writes == [1, 0, 1, 0, 1]


def test_without_feedback_nothing_can_be_confirmed():
    clock, pin, driver = _relay()
    assert driver.position_confirmed("lock") is None and driver.position_confirmed("unlock") is None
    driver.move("unlock")
    assert driver.position_confirmed("unlock") is None


def test_feedback_contact_confirms_only_the_commanded_position():
    contact = Contact(0)  # 0: locked
    clock, pin, driver = _relay(feedback=contact, locked_level=0)
    assert driver.position_confirmed("lock") is True
    contact.level = 1  # door open, bolt not in its keeper, relay released: that is no unlocked lock
    assert driver.position_confirmed("unlock") is False and driver.position_confirmed("lock") is False
    driver.move("unlock")
    assert driver.position_confirmed("unlock") is True
    contact.level = 0  # energised, but the lock still shows locked: not confirmed (a jam, to the core)
    assert driver.position_confirmed("unlock") is False
    driver.move("lock")
    assert driver.position_confirmed("lock") is True


def test_pulse_ends_when_the_core_asks_for_the_position_too():
    clock, pin, driver = _relay(mode=relay.PULSE, pulse_ms=100)
    driver.move("unlock")
    clock.ms = 150
    driver.position_confirmed("unlock")  # the core's tick, even if the HAL's housekeeping stalled
    assert not driver.energised()


def test_bad_moves_and_modes_are_refused():
    clock, pin, driver = _relay()
    _raises_value_error(driver.move, "open")
    assert pin.writes == [0]
    _raises_value_error(relay.Relay, RecordingPin(0), 1, clock.ticks_ms, clock.ticks_diff, "toggle")


def test_config_needs_the_safety_relevant_keys_spelled_out():
    good = {"relay_active_high": False, "relay_mode": "pulse", "relay_fail_safe": False}
    assert relay.active_level(good) == 0
    assert relay.settings(good) == ("pulse", relay.PULSE_MS_DEFAULT, False, 0)
    assert relay.settings(dict(good, relay_pulse_ms=800, relay_feedback_locked_level=1)) == (
        "pulse", 800, False, 1)
    cases = (
        ({"relay_active_high": None}, "relay_active_high"),
        ({"relay_active_high": 1}, "relay_active_high"),
    )
    for overrides, key in cases:
        text = _raises_value_error(relay.active_level, dict(good, **overrides))
        assert key in text, text
    cases = (
        ({"relay_mode": None}, "relay_mode"),
        ({"relay_mode": "toggle"}, "relay_mode"),
        ({"relay_pulse_ms": 5}, "relay_pulse_ms"),
        ({"relay_pulse_ms": 30001}, "relay_pulse_ms"),
        ({"relay_pulse_ms": True}, "relay_pulse_ms"),
        ({"relay_fail_safe": "yes"}, "relay_fail_safe"),
        ({"relay_feedback_locked_level": 2}, "relay_feedback_locked_level"),
    )
    for overrides, key in cases:
        text = _raises_value_error(relay.settings, dict(good, **overrides))
        assert key in text, text
    missing = dict(good)
    del missing["relay_fail_safe"]
    assert "relay_fail_safe" in _raises_value_error(relay.settings, missing)


# --- driven by the core's state machine ----------------------------------------------------------------


def _machine(driver, clock, forced="confirmed"):
    events, states = [], []
    machine = tt.ThumbTurn(driver, clock.ticks_diff, lambda t, r: events.append((t, r)), states.append,
                           unlock_ms=5000, held_open_ms=30000, jam_timeout_ms=1500, has_door=True,
                           forced=forced)
    return machine, events, states


def _run(clock, machine, driver, until, step=50):
    while clock.ms < until:
        clock.ms += step
        driver.step()
        machine.tick(clock.ms)


def test_state_machine_never_energises_the_relay_at_boot():
    for contact in (None, Contact(0), Contact(1)):  # no feedback; shows locked; shows unlocked (door open)
        clock, pin, driver = _relay(active=0, feedback=contact)
        machine, events, states = _machine(driver, clock)
        _run(clock, machine, driver, 60000)
        assert machine.state == tt.LOCKED and pin.writes == [1] and events == [], (contact, pin.writes)


def test_hold_relay_unlocks_then_locks_on_door_close():
    clock, pin, driver = _relay(active=1)
    machine, events, states = _machine(driver, clock)
    machine.unlock(clock.ms)
    _run(clock, machine, driver, 100)
    assert machine.state == tt.UNLOCKED and pin.level == 1
    machine.door_changed(True, clock.ms)
    _run(clock, machine, driver, 20000)
    assert pin.level == 1  # never relocks into an open door
    machine.door_changed(False, clock.ms)
    _run(clock, machine, driver, 20100)
    assert machine.state == tt.LOCKED and pin.level == 0
    assert events == [("auto_lock", "door_closed")]


def test_pulse_relay_pulses_on_every_unlock_command():
    # An automatic door: each tap must open it, even while the lock still counts as unlocked from the last.
    clock, pin, driver = _relay(active=1, mode=relay.PULSE, pulse_ms=300)
    machine, events, states = _machine(driver, clock)
    machine.unlock(clock.ms)
    _run(clock, machine, driver, 1000)
    assert machine.state == tt.UNLOCKED and pin.level == 0 and driver.pulses == 1
    machine.unlock(clock.ms)
    assert pin.level == 1 and driver.pulses == 2
    _run(clock, machine, driver, 2000)
    assert pin.level == 0
    _run(clock, machine, driver, 8000)
    assert machine.state == tt.LOCKED and events == [("auto_lock", "timer")]
    assert pin.writes == [0, 1, 0, 1, 0, 0]  # the last: the lock command, a release that changes nothing


def test_hold_relay_does_not_chatter_on_repeated_taps():
    clock, pin, driver = _relay(active=1)
    machine, events, states = _machine(driver, clock)
    machine.unlock(clock.ms)
    _run(clock, machine, driver, 500)
    machine.unlock(clock.ms)
    machine.unlock(clock.ms)
    assert pin.writes == [0, 1]


def test_relay_lock_that_never_confirms_is_reported_jammed():
    contact = Contact(0)
    clock, pin, driver = _relay(active=1, feedback=contact)
    machine, events, states = _machine(driver, clock)
    machine.unlock(clock.ms)  # the contact keeps showing locked: the strike does not release
    _run(clock, machine, driver, 4000)
    assert events == [("jammed", "retry"), ("jammed", "unlock_failed")] and machine.state == tt.JAMMED


def test_door_forced_open_while_the_bolt_is_confirmed_locked():
    contact = Contact(0)
    clock, pin, driver = _relay(feedback=contact)
    machine, events, states = _machine(driver, clock)
    machine.door_changed(True, clock.ms)
    assert events == [("tamper", "forced")]
    machine.door_changed(False, clock.ms)
    # the contact says the bolt is not thrown (a key, the inside lever on a strike): not forced
    contact.level = 1
    machine.door_changed(True, clock.ms)
    assert events == [("tamper", "forced")]


def test_forced_open_needs_feedback_unless_set_to_always():
    for forced, expected in (("confirmed", []), ("always", [("tamper", "forced")]), ("off", []),
                             ("bogus", [])):
        clock, pin, driver = _relay()  # no feedback: cannot tell whether the bolt is thrown
        machine, events, states = _machine(driver, clock, forced)
        machine.door_changed(True, clock.ms)
        assert events == expected, (forced, events)
    contact = Contact(0)
    clock, pin, driver = _relay(feedback=contact)
    machine, events, states = _machine(driver, clock, "off")
    machine.door_changed(True, clock.ms)
    assert events == []


def test_door_opened_after_an_unlock_is_not_forced():
    contact = Contact(0)
    clock, pin, driver = _relay(feedback=contact)
    machine, events, states = _machine(driver, clock, "always")
    machine.unlock(clock.ms)  # a tap or the exit button
    contact.level = 1
    machine.door_changed(True, clock.ms)  # opened while still unlocking
    _run(clock, machine, driver, 200)
    assert events == [] and machine.state == tt.UNLOCKED
