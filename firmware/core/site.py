# Site settings the cloud can change (config: version, mode, passage windows, unlock/held-open times; time:
# the UTC-offset table and the instant `until` up to which it is known), starting from config.json and
# persisted in site.json so that, for example, lockdown survives a reboot.
#
# site.json is small, rewritten only when the cloud changes something, atomically (tmp + rename): the CRC32
# of the JSON text as 8 hex digits, then the text. A file whose CRC does not match, or that cannot be parsed
# or checked, is ignored and reported as "corrupt" (a flipped digit must not shift a window silently).
# When the cloud had set the settings (state flag site_set) and site.json is missing or corrupt, the site is
# UNKNOWN: the lock decides as in lockdown and refuses time-limited grants (site_unknown) until both a
# config and a time arrive again.
import binascii
import json

from core import fsutil
from core.config import int_setting
from shared_schema.schedule import MAX_WINDOWS, local_seconds, offset_table_error, window_error, windows_allow
from shared_schema.vocabulary import MAX_COUNTER, MODES

FILE_NAME = "site.json"


def windows_error(windows):
    if not isinstance(windows, list) or len(windows) > MAX_WINDOWS:
        return "bad_windows"
    for window in windows:
        if window_error(window):
            return "bad_windows"
    return None


def _uint_error(value, low, high):
    return isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high


class Site:
    def __init__(self, data_dir, config, site_set=False):
        self.path = fsutil.join(data_dir, FILE_NAME)
        self.ver = 0  # config version applied (0: none from the cloud)
        self.mode = config.get("mode") if config.get("mode") in MODES else "normal"
        passage = config.get("passage_windows", [])
        self.passage = passage if windows_error(passage) is None else []
        offsets = config.get("utc_offsets", [[0, 0]])
        self.offsets = offsets if offset_table_error(offsets) is None else [[0, 0]]
        self.until = None  # the offset table is known up to this instant (None: config's table, no limit)
        self.unlock_s = int_setting(config, "unlock_seconds", 1, 60)
        self.held_s = int_setting(config, "held_open_seconds", 5, 3600)
        self._need_config = self._need_time = False
        self.status = self._load()
        if site_set and self.status != "ok":
            self._need_config = self._need_time = True

    @property
    def unknown(self):
        """True while lost settings have not come back (both a config and a time are needed)."""
        return self._need_config or self._need_time

    def _load(self):
        raw = fsutil.read_all(self.path)
        if raw is None:
            return "missing"
        try:
            if int(raw[:8], 16) != binascii.crc32(raw[8:]):
                return "corrupt"
            saved = json.loads(raw[8:])
        except ValueError:
            return "corrupt"
        if not isinstance(saved, dict):
            return "corrupt"
        if "mode" in saved and self._check_config(saved):
            return "corrupt"
        offsets, until = saved.get("offsets"), saved.get("until")
        if offsets is not None and self.offsets_error(offsets, until):
            return "corrupt"
        if "mode" in saved:
            self._take_config(saved)
        if offsets is not None:
            self.offsets, self.until = offsets, until
        # Still waiting for what a loss took (a config came back, the time not yet): survives a reboot.
        waiting = saved.get("waiting", 0)
        if _uint_error(waiting, 0, 3):
            return "corrupt"
        self._need_config, self._need_time = bool(waiting & 1), bool(waiting & 2)
        return "ok"

    def save(self):
        """Persist (raises OSError; the caller refuses the message, the new values stay in RAM only)."""
        data = {
            "ver": self.ver, "mode": self.mode, "passage": self.passage, "unlock_s": self.unlock_s,
            "held_s": self.held_s, "offsets": self.offsets, "until": self.until,
            "waiting": (1 if self._need_config else 0) | (2 if self._need_time else 0),
        }
        text = json.dumps(data).encode()
        fsutil.write_atomic(self.path, b"%08x" % binascii.crc32(text) + text)

    @staticmethod
    def _check_config(payload):
        """None or the refusal reason of a "config" payload."""
        ver, mode, passage = payload.get("ver", 0), payload.get("mode"), payload.get("passage")
        if _uint_error(ver, 0, MAX_COUNTER):
            return "bad_ver"
        if mode not in MODES:
            return "bad_mode"
        if windows_error(passage):
            return "bad_passage"
        if _uint_error(payload.get("unlock_s"), 1, 60):
            return "bad_unlock_s"
        if _uint_error(payload.get("held_s"), 5, 3600):
            return "bad_held_s"
        return None

    def _take_config(self, payload):
        self.ver = payload.get("ver", 0)
        self.mode, self.passage = payload["mode"], payload["passage"]
        self.unlock_s, self.held_s = payload["unlock_s"], payload["held_s"]

    @staticmethod
    def offsets_error(offsets, until):
        """None or the refusal reason of a time's offset table and `until`."""
        if until is not None and _uint_error(until, 0, MAX_COUNTER):
            return "bad_until"
        return offset_table_error(offsets)

    def apply_config(self, payload):
        """A "config" payload (ver, mode, passage, unlock_s, held_s): None or a refusal reason (nothing
        changed). Raises OSError if site.json cannot be written (the values are put back first)."""
        error = self._check_config(payload)
        if error:
            return error
        if payload.get("ver", 0) < self.ver:
            return "config_rollback"
        old = (self.ver, self.mode, self.passage, self.unlock_s, self.held_s, self._need_config)
        self._take_config(payload)
        self._need_config = False
        try:
            self.save()
        except OSError:
            self.ver, self.mode, self.passage, self.unlock_s, self.held_s, self._need_config = old
            raise
        return None

    def set_offsets(self, offsets, until):
        """A verified time's offset table: None or a refusal reason; raises OSError like apply_config."""
        error = self.offsets_error(offsets, until)
        if error:
            return error
        old = (self.offsets, self.until, self._need_time)
        self.offsets, self.until, self._need_time = offsets, until, False
        try:
            self.save()
        except OSError:
            self.offsets, self.until, self._need_time = old
            raise
        return None

    def decision_mode(self):
        """The mode taps are decided in (core.decision): the site's, or site_unknown."""
        return "site_unknown" if self.unknown else self.mode

    def reported_mode(self):
        """The mode hello/state report: an unknown site is held as lockdown."""
        return "lockdown" if self.unknown else self.mode

    def passage_active(self, now):
        """True while passage mode holds the door unlocked. Windows need trusted time; none = always."""
        if self.mode != "passage" or self.unknown:
            return False
        if not self.passage:
            return True
        if now is None or (self.until is not None and now >= self.until):
            return False  # unknown time or local time: stay secure rather than guess
        return windows_allow(self.passage, local_seconds(self.offsets, now))
