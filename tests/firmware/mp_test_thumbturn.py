# micropython-test
# core.thumbturn state machine with fake time and a fake actuator: auto-lock, door-sensor re-lock,
# held-open, jam retry then report, passage hold, and never moving at boot.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
from tests.firmware import fwenv, fwhw  # noqa: F401 (fwenv: the import path)

from core import thumbturn as tt


def _machine(has_door=True, position="lock", blind=False):
    clock = fwhw.FakeTime(0)
    actuator = fwhw.FakeActuator(clock, delay_ms=300, position=position, blind=blind)
    events, states = [], []
    machine = tt.ThumbTurn(actuator, clock.ticks_diff, lambda t, r: events.append((t, r)), states.append,
                           unlock_ms=5000, held_open_ms=30000, jam_timeout_ms=1500, has_door=has_door)
    return clock, actuator, machine, events, states


def _run(clock, machine, until, step=50):
    while clock.ms < until:
        clock.ms += step
        machine.tick(clock.ms)


def test_never_moves_at_boot():
    clock, actuator, machine, events, states = _machine()
    _run(clock, machine, 60000)
    assert machine.state == tt.LOCKED and actuator.moves == [] and events == []
    # found unlocked (e.g. after a watchdog reset mid-cycle): stays as it is until told otherwise
    clock, actuator, machine, events, states = _machine(position="unlock")
    _run(clock, machine, 60000)
    assert machine.state == tt.UNLOCKED and actuator.moves == [] and events == []


def test_unlock_then_auto_lock_without_door_sensor():
    clock, actuator, machine, events, states = _machine(has_door=False)
    machine.unlock(clock.ms)
    assert machine.state == tt.UNLOCKING and machine.bolt() == "moving"
    _run(clock, machine, 300)
    assert machine.state == tt.UNLOCKED
    _run(clock, machine, 300 + 4950)
    assert machine.state == tt.UNLOCKED
    _run(clock, machine, 300 + 5000)
    assert events == [("auto_lock", "timer")] and machine.state == tt.LOCKING
    _run(clock, machine, 6000)
    assert machine.state == tt.LOCKED and actuator.moves == ["unlock", "lock"]
    assert states == [tt.UNLOCKING, tt.UNLOCKED, tt.LOCKING, tt.LOCKED]


def test_new_tap_restarts_the_auto_lock_period():
    clock, actuator, machine, events, states = _machine(has_door=False)
    machine.unlock(clock.ms)
    _run(clock, machine, 4000)
    machine.unlock(clock.ms)
    _run(clock, machine, 8900)
    assert machine.state == tt.UNLOCKED
    _run(clock, machine, 9100)
    assert machine.state == tt.LOCKING


def test_door_sensor_relocks_once_the_door_has_closed():
    clock, actuator, machine, events, states = _machine()
    machine.unlock(clock.ms)
    _run(clock, machine, 1000)
    machine.door_changed(True, clock.ms)
    _run(clock, machine, 20000)  # open well past the auto-lock time: never lock into an open door
    assert machine.state == tt.UNLOCKED and events == []
    machine.door_changed(False, clock.ms)
    assert events == [("auto_lock", "door_closed")] and machine.state == tt.LOCKING
    _run(clock, machine, 21000)
    assert machine.state == tt.LOCKED


def test_door_never_opened_locks_on_timer():
    clock, actuator, machine, events, states = _machine()
    machine.unlock(clock.ms)
    _run(clock, machine, 5400)
    assert events == [("auto_lock", "timer")]


def test_held_open_reported_once_per_opening():
    clock, actuator, machine, events, states = _machine()
    machine.unlock(clock.ms)
    _run(clock, machine, 500)
    machine.door_changed(True, clock.ms)
    _run(clock, machine, 500 + 29950)
    assert events == []
    _run(clock, machine, 500 + 60000)
    assert events == [("held_open", "")]
    machine.door_changed(False, clock.ms)
    assert events[-1] == ("auto_lock", "door_closed")


def test_jam_retries_once_then_reports():
    clock, actuator, machine, events, states = _machine(has_door=False)
    actuator.stuck = ("unlock",)
    machine.unlock(clock.ms)
    _run(clock, machine, 1450)
    assert events == [] and actuator.moves == ["unlock"]
    _run(clock, machine, 1550)
    assert events == [("jammed", "retry")] and actuator.moves == ["unlock", "unlock"]
    assert machine.state == tt.UNLOCKING
    _run(clock, machine, 3100)
    assert events == [("jammed", "retry"), ("jammed", "unlock_failed")]
    assert machine.state == tt.JAMMED and machine.bolt() == "jammed"
    _run(clock, machine, 20000)
    assert actuator.moves == ["unlock", "unlock"]  # no endless retrying
    # the next command tries again; this time the mechanism is free
    actuator.stuck = ()
    machine.lock(clock.ms)
    _run(clock, machine, 20400)
    assert machine.state == tt.LOCKED


def test_jam_while_locking():
    clock, actuator, machine, events, states = _machine(has_door=False)
    machine.unlock(clock.ms)
    _run(clock, machine, 400)
    actuator.stuck = ("lock",)
    _run(clock, machine, 5400)
    assert machine.state == tt.LOCKING
    _run(clock, machine, 5400 + 3100)
    assert events[-1] == ("jammed", "lock_failed") and machine.state == tt.JAMMED


def test_retry_that_succeeds_is_not_a_jam():
    clock, actuator, machine, events, states = _machine(has_door=False)
    actuator.stuck = ("unlock",)
    machine.unlock(clock.ms)
    _run(clock, machine, 1550)
    actuator.stuck = ()
    _run(clock, machine, 2000)
    assert machine.state == tt.UNLOCKED and events == [("jammed", "retry")]


def test_actuator_that_cannot_tell_is_trusted():
    clock, actuator, machine, events, states = _machine(has_door=False, blind=True)
    machine.unlock(clock.ms)
    machine.tick(clock.ms)
    assert machine.state == tt.UNLOCKED
    _run(clock, machine, 5100)
    assert machine.state == tt.LOCKED and events == [("auto_lock", "timer")]


def test_passage_hold_and_release():
    clock, actuator, machine, events, states = _machine()
    machine.unlock(clock.ms, hold=True)
    _run(clock, machine, 60000)
    assert machine.state == tt.UNLOCKED and events == []
    machine.door_changed(True, clock.ms)
    machine.door_changed(False, clock.ms)
    assert machine.state == tt.UNLOCKED  # people pass through: no re-lock during passage
    machine.release_hold(clock.ms)
    _run(clock, machine, 60500)
    assert machine.state == tt.LOCKED and events == [("auto_lock", "timer")]
