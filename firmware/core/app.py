# LockApp: wires the store, event log, state, keys, clock, site settings and thumb-turn to the hardware object
# built by hal/ (see docs/FIRMWARE.md). The tap path: reader -> handle_tap() -> decision -> event log ->
# thumb-turn; it never waits on the network.
#
#   app = LockApp(hw, config)     # opens everything under hw.data_dir, logs the boot event; never moves
#   await app.run()               # forever: poll reader, exit button, door; drive the thumb-turn
#
# What the network layer calls (handlers for verified downlinks, uplink payloads, keys, challenge) is in
# core.cloudapi, LockApp's base class.
import asyncio
import binascii

from core import fsutil
from core.clock import Clock
from core.cloudapi import CloudApi
from core.config import DEFAULTS, int_setting
from core.decision import tap_verdict
from core.eventlog import EventLog
from core.keys import Keys, parse_secret
from core.permstore import STATUS_CORRUPT, PermStore
from core.site import Site
from core.state import FLAG_SITE_SET, MAX_EPOCH, State
from core.thumbturn import JAMMED, ThumbTurn
from shared_schema.credentials import SITE_KEY_MIN_BYTES
from shared_schema.hmac_sha256 import HmacKey

FIRMWARE_VERSION = "0.2.0"
# Files that belong to one provisioning: a lock provisioned again (a new epoch) starts without them.
_PROVISIONING_FILES = ("perm.db", "keys.bin", "site.json")


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


class LockApp(CloudApi):
    firmware_version = FIRMWARE_VERSION

    def __init__(self, hw, config):
        self.hw = hw
        data_dir = getattr(hw, "data_dir", None) or config.get("data_dir", "data")
        try:
            fsutil.makedirs(data_dir)
        except OSError:
            pass  # a failing flash: every file below reads as missing, every write is refused
        secret = parse_secret(config.get("device_secret"))
        self.epoch = int_setting(config, "epoch", 1, MAX_EPOCH)
        self.state = State(data_dir, self.epoch)
        boot_notes = []
        if secret is not None and self.state.status == "ok" and self.state.epoch != self.epoch:
            for name in _PROVISIONING_FILES:
                fsutil.remove(fsutil.join(data_dir, name))
            self.state.reprovisioned(self.epoch)
            boot_notes.append("reprovisioned")
        self.keys = Keys(data_dir, secret, int_setting(config, "key_gen", 1, 0xFFFFFFFF), self.epoch)
        self.store = PermStore(data_dir)
        self.keys.table_key(self.store.generation)  # derived now rather than on the first tap
        if hw.watchdog is not None:
            self.store.on_progress = hw.watchdog.feed  # long store updates must not trip the watchdog
        self.max_credentials = int_setting(config, "max_credentials", 16, 1000000)
        self.log = EventLog(
            data_dir, self.state, int_setting(config, "event_log_capacity", 64, 65536),
            lambda block: self.store.room_needed(self.max_credentials, block),
        )
        self.site = Site(data_dir, config, self.state.has(FLAG_SITE_SET))
        self.clock = Clock(hw.rtc, self.state)
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
        self.phone = None  # core.phonetap.PhoneTaps when the HAL carries phone exchanges (BLE)
        if getattr(hw, "phone", None) is not None:
            from core.phonetap import attach  # only where a phone can come: others do not pay its heap

            self.phone = attach(self, hw, config)
        self.init_cloud_api()
        self.boot_reason = hw.boot_reason()
        self.record("boot", None, self.boot_reason)
        for note, bad in (("store_corrupt", self.store.status == STATUS_CORRUPT),
                          ("state_corrupt", self.state.status == "corrupt"),
                          ("site_corrupt", self.site.status == "corrupt"),
                          ("keys_corrupt", self.keys.status == "corrupt")):
            if bad:
                boot_notes.append(note)
        for note in boot_notes:
            self.record("boot", None, note)
        self._signal("idle")

    # --- outputs ----------------------------------------------------------------------------------------

    def record(self, event_type, cred, reason):
        """Append an event to the flash log and report it; returns its seq (0 if flash failed)."""
        ts = self.clock.trusted_now() or 0  # events carry ts 0 while the clock is not trusted
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
        site = self.site
        verdict = tap_verdict(
            self.store, self.site_key, self.keys.table_key(self.store.generation), kind, uid,
            self.clock.trusted_now(), site.offsets, site.until, site.decision_mode(),
        )
        self._act(verdict, kind)
        return verdict

    def _act(self, verdict, kind, log=True):
        """Log (unless `log` is False), report, signal and, when granted, unlock: a card's or a phone's."""
        seq = 0
        if log:
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

    def exit_request(self):
        # Egress from inside always works, lockdown included.
        self.record("exit_request", None, "exit_button")
        self.thumbturn.unlock(self.hw.ticks_ms(), self._passage)

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
        active = self.site.passage_active(self.clock.trusted_now())
        if active == self._passage:
            return
        self._passage = active
        self.record("mode", None, "passage" if active else "normal")
        if active:
            self.thumbturn.unlock(now, True)
        else:
            self.thumbturn.release_hold(now)

    def _keep_time(self, now):
        try:
            self.clock.refresh_floor()  # at most one small state write an hour
        except OSError:
            self._report("error", {"where": "state", "type": "time_floor"})
        self.age_challenge(now)

    def step(self):
        """One pass of the main loop (run() calls it every poll_ms; tests call it directly)."""
        now = self.hw.ticks_ms()
        self._poll_reader(now)
        if self.phone is not None and self.phone.ready():
            self.phone.handle()
        if self.hw.exit_button is not None and self.hw.exit_button.take_press():
            self.exit_request()
        self._poll_door(now)
        self._update_passage(now)
        self._keep_time(now)
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

    def mode_changed(self, old_mode):
        """After a config or time: log a change of the mode taps see, end a passage hold, lock for
        lockdown."""
        mode = self.site.reported_mode()
        if mode == old_mode:
            return
        self.record("mode", None, mode)
        now = self.hw.ticks_ms()
        if self._passage and not self.site.passage_active(self.clock.trusted_now()):
            self._passage = False  # a passage hold ends with the mode (logged just above)
            self.thumbturn.release_hold(now)
        if mode == "lockdown":
            self.thumbturn.lock(now)
