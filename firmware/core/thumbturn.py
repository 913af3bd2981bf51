# The thumb-turn: an explicit state machine with timeouts, driven by tick(now_ms).
#
#   LOCKED --unlock()--> UNLOCKING --confirmed--> UNLOCKED --timer / door closed--> LOCKING --> LOCKED
#   UNLOCKING/LOCKING past jam_timeout: move again once (event jammed/retry); past it again: JAMMED
#   (event jammed/unlock_failed or lock_failed). JAMMED waits for the next command, which tries again.
#
# - Never moves by itself at construction (boot, watchdog reset): it only reads the position, if the
#   hardware can tell, and otherwise assumes LOCKED.
# - Auto-lock: unlock_ms after reaching UNLOCKED. With a door sensor: once the door has opened, it locks
#   as soon as the door closes again, and never while the door is open (the bolt would hit the frame).
# - Door open longer than held_open_ms: one held_open event per opening.
# - Door opened while LOCKED (no unlock, no exit request under way): event tamper/forced, per `forced`:
#   "confirmed" (default) only when the actuator's feedback confirms the bolt thrown; "always" also when
#   it cannot tell (installs where every way out goes through the exit button); "off" never. Feedback
#   saying the bolt is not thrown (turned by hand, a key) is never forced.
# - hold=True (passage mode) keeps it unlocked with no timer until release_hold().
# - unlock(..., relock_ms=N): this unlock's auto-lock period instead of unlock_ms (a remote "unlock for N s").
# - A momentary actuator (a relay in pulse mode: actuator.momentary) gets every unlock command, also
#   while UNLOCKED: each tap pulses the automatic door's contact again.
#
# Events go to on_event(event_type, reason); every state change to on_state(state).
LOCKED = "locked"
UNLOCKING = "unlocking"
UNLOCKED = "unlocked"
LOCKING = "locking"
JAMMED = "jammed"

_TARGET = {UNLOCKING: "unlock", LOCKING: "lock"}
FORCED_CONFIRMED = "confirmed"
FORCED_ALWAYS = "always"
FORCED_OFF = "off"
FORCED_MODES = (FORCED_CONFIRMED, FORCED_ALWAYS, FORCED_OFF)


class ThumbTurn:
    def __init__(self, actuator, ticks_diff, on_event, on_state, unlock_ms, held_open_ms, jam_timeout_ms,
                 has_door, forced=FORCED_CONFIRMED):
        self.actuator = actuator
        self._momentary = getattr(actuator, "momentary", False)
        self.forced = forced if forced in FORCED_MODES else FORCED_CONFIRMED
        self._diff = ticks_diff
        self._on_event = on_event
        self._on_state = on_state
        self.unlock_ms = unlock_ms
        self._relock_ms = unlock_ms  # the auto-lock period of the current unlock
        self.held_open_ms = held_open_ms
        self.jam_timeout_ms = jam_timeout_ms
        self.has_door = has_door
        self.hold = False
        self.door_open = False
        self._door_seen_open = False  # the door opened during this unlock
        self._opened_at = None  # ticks when the door last opened
        self._held_reported = False
        self._deadline = None  # move: confirm-by ticks
        self._attempts = 0
        self._relock_at = None  # UNLOCKED: auto-lock ticks (None: no timer)
        self.state = UNLOCKED if actuator.position_confirmed("unlock") is True else LOCKED

    def bolt(self):
        """The state as reported upstream: locked | unlocked | moving | jammed."""
        if self.state in (UNLOCKING, LOCKING):
            return "moving"
        return self.state

    def _set(self, state):
        if state != self.state:
            self.state = state
            self._on_state(state)

    # --- commands -------------------------------------------------------------------------------------

    def unlock(self, now, hold=False, relock_ms=None):
        self.hold = hold
        self._relock_ms = relock_ms or self.unlock_ms
        if self.state == UNLOCKED:
            if hold:
                self._relock_at = None
            else:
                self._arm_relock(now)  # a new tap restarts the auto-lock period
            if self._momentary:
                self.actuator.move("unlock")
            return
        if self.state != UNLOCKING:
            self._start(UNLOCKING, now)

    def lock(self, now):
        self.hold = False
        if self.state not in (LOCKED, LOCKING):
            self._start(LOCKING, now)

    def release_hold(self, now):
        """Passage ended: lock now (or once the door closes)."""
        if self.hold:
            self.hold = False
            if self.state == UNLOCKED:
                self._relock_at = now

    def _start(self, moving_state, now):
        self._attempts = 1
        self._deadline = now + self.jam_timeout_ms
        self.actuator.move(_TARGET[moving_state])
        self._set(moving_state)

    def _arm_relock(self, now):
        self._relock_at = now + self._relock_ms
        self._door_seen_open = self.door_open

    # --- inputs ---------------------------------------------------------------------------------------

    def door_changed(self, is_open, now):
        self.door_open = is_open
        if is_open:
            self._opened_at = now
            self._held_reported = False
            if self.state in (UNLOCKED, UNLOCKING):
                self._door_seen_open = True
            elif self.state == LOCKED and self._forced_open():
                self._on_event("tamper", "forced")
            return
        self._opened_at = None
        if self.state == UNLOCKED and self._door_seen_open and not self.hold:
            self._on_event("auto_lock", "door_closed")
            self.lock(now)

    def _forced_open(self):
        if self.forced == FORCED_OFF:
            return False
        thrown = self.actuator.position_confirmed("lock")
        return thrown is True or (thrown is None and self.forced == FORCED_ALWAYS)

    def tick(self, now):
        if self.state in (UNLOCKING, LOCKING):
            self._check_move(now)
        elif self.state == UNLOCKED and not self.hold and self._relock_at is not None:
            if self._diff(now, self._relock_at) >= 0 and not (self.has_door and self.door_open):
                self._on_event("auto_lock", "timer")
                self.lock(now)
        if self._opened_at is not None and not self._held_reported:
            if self._diff(now, self._opened_at) >= self.held_open_ms:
                self._held_reported = True
                self._on_event("held_open", "")

    def _check_move(self, now):
        target = _TARGET[self.state]
        confirmed = self.actuator.position_confirmed(target)
        if confirmed is None or confirmed:
            # None: the hardware cannot tell; the move is assumed done.
            self._arrive(now)
            return
        if self._diff(now, self._deadline) < 0:
            return
        if self._attempts == 1:
            self._attempts = 2
            self._deadline = now + self.jam_timeout_ms
            self._on_event("jammed", "retry")
            self.actuator.move(target)
            return
        self._on_event("jammed", target + "_failed")
        self._set(JAMMED)

    def _arrive(self, now):
        if self.state == UNLOCKING:
            self._set(UNLOCKED)
            if self.hold:
                self._relock_at = None
            else:
                self._arm_relock(now)
        else:
            self._relock_at = None
            self._set(LOCKED)
