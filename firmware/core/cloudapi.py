# What the network layer (firmware/net/) calls on the lock, with messages it has already verified (MAC,
# fields, counter, freshness: docs/PROTOCOL.md). LockApp (core.app) inherits it; docs/FIRMWARE.md lists
# the API. Nothing here waits on the network, and nothing here parses wire bytes.
#
# Storage failures never stop the lock: an OSError from the store, log, state, site or keys refuses that
# one message or operation with reasons.STORAGE_ERROR and leaves everything as it was.
import asyncio
import binascii
import gc
import os

from core import reasons
from core.permstore import (
    ERR_BASE_MISMATCH,
    ERR_STORAGE,
    RESULT_APPLIED,
    RESULT_PARTIAL,
    RESULT_UNCHANGED,
    STATUS_OK,
)
from core.state import FLAG_RESYNC, FLAG_SITE_SET
from shared_schema.vocabulary import MAX_EVENTS_PER_BATCH, NONCE_BYTES

# A challenge older than this is treated as stale for ever (ticks_ms wraps after ~12 days on an ESP32).
_CHALLENGE_MAX_MS = 86400 * 1000
_STALE_AGE_S = 1 << 30
MAX_COMMAND_S = 3600
_NEED_SNAPSHOT = (ERR_BASE_MISMATCH, "key_mismatch", "resync_required")


class CloudApi:
    def init_cloud_api(self):
        self.challenge = None  # hex nonce of the last hello: the lock's current challenge
        self._challenge_at = 0
        self._challenge_stale = False
        self._snap_bound = False  # every chunk of the snapshot under way carried the current nonce

    # --- challenge, keys, counters ----------------------------------------------------------------------

    def new_challenge(self):
        """A fresh 16-byte random nonce (hex): the current challenge until the next one."""
        self.challenge = binascii.hexlify(os.urandom(NONCE_BYTES)).decode()
        self._challenge_at = self.hw.ticks_ms()
        self._challenge_stale = False
        return self.challenge

    def challenge_age_s(self):
        """Seconds since new_challenge(), None if there is none."""
        if self.challenge is None:
            return None
        if self._challenge_stale:
            return _STALE_AGE_S
        return self.hw.ticks_diff(self.hw.ticks_ms(), self._challenge_at) // 1000

    def age_challenge(self, now_ms):
        # From the main loop: before ticks wrap, an old challenge is marked stale for good.
        if self.challenge is not None and self.hw.ticks_diff(now_ms, self._challenge_at) > _CHALLENGE_MAX_MS:
            self._challenge_stale = True

    @property
    def resync(self):
        return self.state.resync

    def pv_floor(self):
        """The lowest permission version a snapshot may have: nothing older than what was ever applied."""
        return max(self.state.pv_floor, self.store.version)

    def downlink_keys(self):
        """[(generation, K_down, K_up)] (HmacKeys) a downlink may verify under, newest first."""
        return self.keys.downlink_keys()

    def uplink_key(self):
        """K_up (HmacKey) every uplink is signed with; None when not provisioned (send nothing)."""
        return self.keys.uplink_key()

    def on_verified_key(self, generation):
        """A downlink verified under `generation`: after a rekey, the first one under the new key retires
        the old key for downlinks."""
        try:
            self.keys.on_verified(generation, self.store.generation)
        except OSError:
            self._report("error", {"where": "keys", "type": "confirm"})  # tried again at the next one

    # --- downlink handlers ----------------------------------------------------------------------------------

    def apply_time(self, now, offsets, until):
        """A verified `time` (nonce-bound, so any step, backwards included): the clock becomes trusted and
        the UTC-offset table (known up to `until`) is stored. Returns None or a refusal reason."""
        error = self.clock.time_error(now) or self.site.offsets_error(offsets, until)
        if error:
            return error
        old_mode = self.site.reported_mode()
        try:
            self.site.set_offsets(offsets, until)
            error = self.clock.set_trusted(now)
            if not error:
                self.state.set_flag(FLAG_SITE_SET)
        except OSError:
            return reasons.STORAGE_ERROR
        self.mode_changed(old_mode)
        return error

    def set_untrusted_time(self, now, source="ntp"):
        """NTP or a user: sets the clock only while it is not trusted (for TLS), never trusted by it.
        Returns None or a refusal reason (clock_trusted, ...)."""
        try:
            return self.clock.set_untrusted(now, source)
        except OSError:
            return reasons.STORAGE_ERROR

    async def apply_snapshot(self, payload, bound=False):
        """A verified `snap` chunk; `bound`: it carried the current nonce as `c`. Returns the perm_ack
        payload, or None while more chunks are due. Runs in steps (taps meanwhile use the live version).
        A resync ends only with a complete snapshot whose every chunk was bound."""
        index, generation = payload["i"], payload["g"]
        self._snap_bound = (self._snap_bound or index == 0) and bool(bound)
        if not self.keys.has(generation):
            self.store.abort_snapshot()
            return self._perm_ack("unknown_key_gen")
        result = await self._run_update(
            self.store.snapshot_steps, payload["ver"], generation, index, payload["of"], payload["e"],
            self.pv_floor(),
        )
        if result == RESULT_PARTIAL:
            return None
        if result in (RESULT_APPLIED, RESULT_UNCHANGED):
            result = self._after_snapshot()
        return self._perm_ack(result)

    def _after_snapshot(self):
        try:
            self.state.raise_pv_floor(self.store.version)
            self.keys.prune(self.store.generation)  # an older generation's secret is not needed any more
            if self._snap_bound:
                self.state.set_flag(FLAG_RESYNC, False)
        except OSError:
            return ERR_STORAGE  # the table is live; the cloud sends the snapshot again to end a resync
        return RESULT_APPLIED

    async def apply_delta(self, payload):
        """A verified `delta`; returns the perm_ack payload (`need: "snapshot"` when only a snapshot can
        help: base or key generation mismatch, resync, damaged store)."""
        if self.state.resync:
            return self._perm_ack("resync_required")
        if payload["g"] != self.store.generation:
            return self._perm_ack("key_mismatch")
        if self.store.version < self.pv_floor():
            return self._perm_ack(ERR_BASE_MISMATCH)
        result = await self._run_update(
            self.store.delta_steps, payload["base"], payload["ver"], payload["add"], payload["del"]
        )
        if result == RESULT_APPLIED:
            try:
                self.state.raise_pv_floor(self.store.version)
            except OSError:
                pass  # the store's own footer carries the version: the floor is max(state, store)
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
        store = self.store
        if result in (RESULT_APPLIED, RESULT_UNCHANGED):
            return {"ver": store.version, "ok": True}
        ack = {"ver": store.version, "ok": False, "err": result}
        if result in _NEED_SNAPSHOT or store.status != STATUS_OK:
            ack["need"] = "snapshot"
        return ack

    def apply_config(self, payload):
        """A verified `config`; returns the cfg_ack payload (nothing changes on a refusal)."""
        old_mode = self.site.reported_mode()
        try:
            error = self.site.apply_config(payload)
            if not error:
                self.state.set_flag(FLAG_SITE_SET)
        except OSError:
            error = reasons.STORAGE_ERROR
        if error:
            return {"ver": self.site.ver, "ok": False, "err": error}
        self.thumbturn.unlock_ms = self.site.unlock_s * 1000
        self.thumbturn.held_open_ms = self.site.held_s * 1000
        self.mode_changed(old_mode)
        return {"ver": self.site.ver, "ok": True}

    def remote(self, cmd_id, action, dur=None):
        """A verified `cmd`: "unlock" (for `dur` seconds, else unlock_s) or "lock". One-shot: an id already
        executed is answered as done and not executed again, across reboots too. Returns cmd_result."""
        result = {"id": cmd_id, "ok": False}
        if action not in ("unlock", "lock"):
            result["err"] = "bad_action"
        elif dur is not None and (isinstance(dur, bool) or not isinstance(dur, int)
                                  or not 1 <= dur <= MAX_COMMAND_S):
            result["err"] = "bad_dur"
        elif self.state.command_seen(cmd_id):
            result["ok"] = True
        else:
            try:
                self.state.remember_command(cmd_id)  # before acting: a power cut may lose it, never repeat it
            except OSError:
                result["err"] = reasons.STORAGE_ERROR
                return result
            self._execute(action, dur)
            result["ok"] = True
        return result

    def _execute(self, action, dur):
        now = self.hw.ticks_ms()
        if action == "unlock":
            self.record("remote_unlock", None, "remote")
            self.thumbturn.unlock(now, self._passage, dur * 1000 if dur else None)
        else:
            self.record("remote_lock", None, "remote")
            self.thumbturn.lock(now)

    def apply_rekey(self, generation, secret):
        """A verified `rekey`, its secret already unwrapped (core.keys.unwrap). Returns None or a refusal
        reason; afterwards uplinks are signed with the new key (send a hello)."""
        try:
            return self.keys.rekey(generation, secret, self.store.generation)
        except OSError:
            return reasons.STORAGE_ERROR

    def ack_events(self, upto):
        """A verified `ev_ack`: returns the acknowledged seq now persisted."""
        try:
            return self.log.ack(upto)
        except OSError:
            self._report("error", {"where": "event_log", "type": "ack"})
            return self.state.ev_acked

    # --- uplink payloads ----------------------------------------------------------------------------------

    def hello_payload(self):
        """Every v2 hello field; makes a new challenge (the nonce it carries)."""
        trusted = self.clock.trusted_now() is not None
        return {
            "fw": self.firmware_version, "pv": self.store.version, "kg": self.store.generation,
            "cv": self.site.ver, "boot": self.boot_reason, "clk": self.clock.source, "trusted": trusted,
            "sync_age": self.clock.sync_age(), "mode": self.site.reported_mode(), "pending": self.log.pending,
            "dropped": self.log.dropped, "nonce": self.new_challenge(), "resync": self.state.resync,
            "store": self.store.status, "heap": gc.mem_free(),
        }

    def state_payload(self):
        door = "unknown" if self.door_open is None else ("open" if self.door_open else "closed")
        return {
            "door": door, "bolt": self.thumbturn.bolt(), "mode": self.site.reported_mode(),
            "pv": self.store.version, "pending": self.log.pending, "dropped": self.log.dropped,
        }

    def events_payload(self, limit=MAX_EVENTS_PER_BATCH):
        """Oldest unacknowledged events for an `events` message, or None if there are none (or the flash
        cannot be read)."""
        try:
            batch = self.log.read_batch(limit)
        except OSError:
            return None
        if not batch:
            return None
        return {"ev": batch, "dropped": self.log.dropped}
