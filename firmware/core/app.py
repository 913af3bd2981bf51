# LockApp: wires the store, event log, clock, site settings and thumb-turn to the hardware object built by
# hal/ (see notes in docs/FIRMWARE.md). The tap path: reader -> handle_tap() -> decision -> event log ->
# thumb-turn; it never waits on the network.
#
#   app = LockApp(hw, config)     # opens store and log under hw.data_dir, logs the boot event; never moves
#   await app.run()               # forever: poll reader, exit button, door; drive the thumb-turn
#
# The messaging layer (MQTT) awaits apply_snapshot / apply_delta (they run in steps), calls ack_events /
# set_time / apply_config / remote and reads hello_payload / state_payload / events_payload; payloads
# follow shared_schema.messages.
import asyncio
import binascii
import gc

from core import fsutil
from core.clock import Clock
from core.config import DEFAULTS, int_setting
from core.decision import MODE_LOCKDOWN, tap_verdict
from core.eventlog import EventLog
from core.permstore import ERR_BASE_MISMATCH, RESULT_APPLIED, RESULT_PARTIAL, STATUS_CORRUPT, PermStore
from core.site import Site
from core.state import State
from core.thumbturn import JAMMED, ThumbTurn
from shared_schema.credentials import SITE_KEY_MIN_BYTES
from shared_schema.hmac_sha256 import HmacKey
from shared_schema.vocabulary import MAX_EVENTS_PER_BATCH

FIRMWARE_VERSION = "0.1.0"


def parse_site_key(text):
    """The site key from config hex, padded for HMAC once (HmacKey), or None if missing or unusable
    (then every tap is denied)."""
    if not isinstance(text, str):
        return None
    try:
        key = binascii.unhexlify(text)
    except ValueError:
        return None
    return HmacKey(key) if len(key) >= SITE_KEY_MIN_BYTES else None


class LockApp:
    def __init__(self, hw, config):
        self.hw = hw
        data_dir = getattr(hw, "data_dir", None) or config.get("data_dir", "data")
        fsutil.makedirs(data_dir)
        self.state = State(data_dir)
        self.store = PermStore(data_dir)
        if hw.watchdog is not None:
            self.store.on_progress = hw.watchdog.feed  # long store updates must not trip the watchdog
        self.log = EventLog(data_dir, self.state, int_setting(config, "event_log_capacity", 64, 65536))
        self.site = Site(data_dir, config)
        self.clock = Clock(hw.rtc)
        self.site_key = parse_site_key(config.get("site_key"))
        self.tap_repeat_ms = int_setting(config, "tap_repeat_ms", 0, 60000)
        self.poll_ms = int_setting(config, "poll_ms", 5, 1000)
        self.door_open = hw.door.is_open() if hw.door is not None else None
        self.thumbturn = ThumbTurn(
            hw.actuator, hw.ticks_diff, self._bolt_event, self._bolt_state, self.site.unlock_s * 1000,
            self.site.held_s * 1000, int_setting(config, "jam_timeout_ms", 100, 30000), hw.door is not None,
            config.get("forced_open_alarm", DEFAULTS["forced_open_alarm"]),
        )
        self.thumbturn.door_open = bool(self.door_open)
        self._last_uid = None
        self._last_tap_at = 0
        self._passage = False
        self._update_lock = asyncio.Lock()
        self.boot_reason = hw.boot_reason()
        self.record("boot", None, self.boot_reason)
        for what, status in (("store_corrupt", self.store.status), ("state_corrupt", self.state.status)):
            if status == STATUS_CORRUPT:
                self.record("boot", None, what)
        self._signal("idle")

    # --- outputs ----------------------------------------------------------------------------------------

    def record(self, event_type, cred, reason):
        """Append an event to the flash log and report it; returns its seq (0 if flash failed)."""
        ts = self.clock.now() or 0
        try:
            seq = self.log.append(event_type, ts, cred, reason)
        except OSError:
            # A failing flash must not block the door: the decision stands, the loss is reported.
            seq = 0
            self._report("error", {"where": "event_log", "type": event_type})
        cred_hex = binascii.hexlify(cred).decode() if cred else ""
        self._report("event", {"seq": seq, "ts": ts, "type": event_type, "cred": cred_hex, "reason": reason})
        return seq

    def _report(self, kind, fields):
        try:
            self.hw.report(kind, fields)
        except Exception:  # an observer's failure must never reach the tap path
            pass

    def _signal(self, pattern):
        if self.hw.led is not None:
            self.hw.led.show(pattern)
        if self.hw.buzzer is not None and pattern != "idle":
            self.hw.buzzer.play(pattern)

    def _bolt_event(self, event_type, reason):
        self.record(event_type, None, reason)
        if event_type == "held_open":
            self._signal("held_open")
        elif event_type == "tamper":
            self._signal("error")  # door forced: sound it at the door, not only in the log

    def _bolt_state(self, state):
        self._report("bolt", {"state": state, "bolt": self.thumbturn.bolt()})
        if state == JAMMED:
            self._signal("jammed")

    # --- inputs -----------------------------------------------------------------------------------------

    def handle_tap(self, kind, uid):
        """Decide on one credential read and act on it; returns the Verdict."""
        verdict = tap_verdict(
            self.store, self.site_key, kind, uid, self.clock.now(), self.site.offsets, self.site.mode
        )
        seq = self.record("granted" if verdict.granted else "denied", verdict.cred, verdict.reason)
        self._report("decision", {
            "granted": verdict.granted, "reason": verdict.reason, "kind": kind, "seq": seq,
            "cred": binascii.hexlify(verdict.cred).decode() if verdict.cred else "",
        })
        if verdict.granted:
            self._signal("granted")
            self.thumbturn.unlock(self.hw.ticks_ms(), self._passage)
        else:
            self._signal("denied")
        return verdict

    def exit_request(self):
        # Egress from inside always works, lockdown included.
        self.record("exit_request", None, "exit_button")
        self.thumbturn.unlock(self.hw.ticks_ms(), self._passage)

    def remote(self, action):
        """A verified "cmd" from the cloud: "unlock" or "lock"; returns None or a refusal reason."""
        now = self.hw.ticks_ms()
        if action == "unlock":
            self.record("remote_unlock", None, "remote")
            self.thumbturn.unlock(now, self._passage)
        elif action == "lock":
            self.record("remote_lock", None, "remote")
            self.thumbturn.lock(now)
        else:
            return "bad_action"
        return None

    def _poll_reader(self, now):
        if self.hw.reader is None:
            return
        got = self.hw.reader.poll()
        if got is None:
            return
        kind, uid = got
        # A card resting on the reader is read on every poll: one tap until it has been away a while.
        if uid == self._last_uid and self.hw.ticks_diff(now, self._last_tap_at) < self.tap_repeat_ms:
            self._last_tap_at = now
            return
        self._last_uid, self._last_tap_at = uid, now
        self.handle_tap(kind, uid)

    def _poll_door(self, now):
        if self.hw.door is None:
            return
        is_open = bool(self.hw.door.is_open())
        if is_open == self.door_open:
            return
        self.door_open = is_open
        self.record("door_open" if is_open else "door_closed", None, "door_sensor")
        self._report("door", {"open": is_open})
        self.thumbturn.door_changed(is_open, now)

    def _update_passage(self, now):
        active = self.site.passage_active(self.clock.now())
        if active == self._passage:
            return
        self._passage = active
        self.record("mode", None, "passage" if active else "normal")
        if active:
            self.thumbturn.unlock(now, True)
        else:
            self.thumbturn.release_hold(now)

    def step(self):
        """One pass of the main loop (run() calls it every poll_ms; tests call it directly)."""
        now = self.hw.ticks_ms()
        self._poll_reader(now)
        if self.hw.exit_button is not None and self.hw.exit_button.take_press():
            self.exit_request()
        self._poll_door(now)
        self._update_passage(now)
        self.thumbturn.tick(now)
        if self.hw.watchdog is not None:
            self.hw.watchdog.feed()

    async def run(self):
        await self.hw.start()
        while True:
            try:
                self.step()
            except Exception as exc:  # bad input from any device must not stop the lock
                self._report("error", {"where": "step", "error": type(exc).__name__})
            await asyncio.sleep_ms(self.poll_ms)

    # --- downlink handlers (messaging layer) --------------------------------------------------------------

    async def apply_snapshot(self, payload):
        """A verified "snap" payload. Returns a perm_ack payload, or None while more chunks are due.
        Runs in steps: taps meanwhile are decided from the live version (see _run_update)."""
        result = await self._run_update(
            self.store.snapshot_steps, payload["ver"], payload["i"], payload["of"], payload["e"]
        )
        if result == RESULT_PARTIAL:
            return None
        return self._perm_ack(result)

    async def apply_delta(self, payload):
        """A verified "delta" payload; returns the perm_ack payload (need: snapshot on a base mismatch)."""
        result = await self._run_update(
            self.store.delta_steps, payload["base"], payload["ver"], payload["add"], payload["del"]
        )
        return self._perm_ack(result)

    async def _run_update(self, steps_of, *args):
        # A merge or verification reads the whole store (seconds at 50,000 credentials on an ESP32): it runs
        # a bounded step at a time and yields to the loop in between, so run() keeps polling the reader and
        # taps are decided from the live version, which stays valid until the rename. One update at a time.
        async with self._update_lock:
            steps = steps_of(*args)
            try:
                while True:
                    try:
                        next(steps)
                    except StopIteration as done:
                        result = done.value
                        break
                    await asyncio.sleep_ms(0)
            finally:
                steps.close()  # cancelled half-way: the store removes its unfinished file
            gc.collect()
            return result

    def _perm_ack(self, result):
        if result == RESULT_APPLIED:
            return {"ver": self.store.version, "ok": True}
        ack = {"ver": self.store.version, "ok": False, "err": result}
        if result == ERR_BASE_MISMATCH or self.store.status != "ok":
            ack["need"] = "snapshot"
        return ack

    def ack_events(self, upto):
        return self.log.ack(upto)

    def set_time(self, now, offsets=None, source="cloud"):
        """Set the clock (and the UTC-offset table); returns None or a refusal reason."""
        if offsets is not None:
            error = self.site.set_offsets(offsets)
            if error:
                return error
        return self.clock.set(now, source)

    def apply_config(self, payload):
        """A verified "config" payload; returns None or a refusal reason (nothing changed then)."""
        old_mode = self.site.mode
        error = self.site.apply_config(payload)
        if error:
            return error
        self.thumbturn.unlock_ms = self.site.unlock_s * 1000
        self.thumbturn.held_open_ms = self.site.held_s * 1000
        if self.site.mode != old_mode:
            self.record("mode", None, self.site.mode)
            now = self.hw.ticks_ms()
            if self._passage and not self.site.passage_active(self.clock.now()):
                self._passage = False  # a passage hold ends with the mode (logged just above)
                self.thumbturn.release_hold(now)
            if self.site.mode == MODE_LOCKDOWN:
                self.thumbturn.lock(now)
        return None

    # --- status (uplink payloads) -------------------------------------------------------------------------

    def hello_payload(self):
        return {
            "fw": FIRMWARE_VERSION, "pv": self.store.version, "boot": self.boot_reason,
            "clk": self.clock.source, "sync_age": self.clock.sync_age(), "mode": self.site.mode,
            "pending": self.log.pending, "dropped": self.log.dropped,
        }

    def state_payload(self):
        door = "unknown" if self.door_open is None else ("open" if self.door_open else "closed")
        return {
            "door": door, "bolt": self.thumbturn.bolt(), "mode": self.site.mode, "pv": self.store.version,
            "pending": self.log.pending, "dropped": self.log.dropped,
        }

    def events_payload(self, limit=MAX_EVENTS_PER_BATCH):
        """Oldest unacknowledged events for an "events" message, or None if there are none."""
        batch = self.log.read_batch(limit)
        if not batch:
            return None
        return {"ev": batch, "dropped": self.log.dropped}

