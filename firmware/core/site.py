# Site settings the cloud can change (mode, passage windows, unlock/held-open times, UTC-offset table),
# starting from config.json and persisted in site.json so that, for example, lockdown survives a reboot.
#
# site.json is small, rewritten only when the cloud changes something, atomically (tmp + rename). A file
# that cannot be parsed or checked is ignored (config.json values apply) and reported as "corrupt".
import json

from core import fsutil
from core.config import int_setting
from shared_schema.schedule import MAX_WINDOWS, local_seconds, offset_table_error, window_error, windows_allow
from shared_schema.vocabulary import MODES

FILE_NAME = "site.json"


def windows_error(windows):
    if not isinstance(windows, list) or len(windows) > MAX_WINDOWS:
        return "bad_windows"
    for window in windows:
        if window_error(window):
            return "bad_windows"
    return None


class Site:
    def __init__(self, data_dir, config):
        self.path = fsutil.join(data_dir, FILE_NAME)
        self.mode = config.get("mode") if config.get("mode") in MODES else "normal"
        passage = config.get("passage_windows", [])
        self.passage = passage if windows_error(passage) is None else []
        offsets = config.get("utc_offsets", [[0, 0]])
        self.offsets = offsets if offset_table_error(offsets) is None else [[0, 0]]
        self.unlock_s = int_setting(config, "unlock_seconds", 1, 60)
        self.held_s = int_setting(config, "held_open_seconds", 5, 3600)
        self.status = self._load()

    def _load(self):
        raw = fsutil.read_all(self.path)
        if raw is None:
            return "missing"
        try:
            saved = json.loads(raw)
        except ValueError:
            return "corrupt"
        if not isinstance(saved, dict) or self.apply_config(saved, persist=False):
            return "corrupt"
        offsets = saved.get("offsets")
        if offsets is not None and self.set_offsets(offsets, persist=False):
            return "corrupt"
        return "ok"

    def _save(self):
        data = {
            "mode": self.mode, "passage": self.passage, "unlock_s": self.unlock_s, "held_s": self.held_s,
            "offsets": self.offsets,
        }
        fsutil.write_atomic(self.path, json.dumps(data).encode())

    def apply_config(self, payload, persist=True):
        """A "config" payload (mode, passage, unlock_s, held_s); returns None or a refusal reason."""
        mode, passage = payload.get("mode"), payload.get("passage")
        unlock_s, held_s = payload.get("unlock_s"), payload.get("held_s")
        if mode not in MODES:
            return "bad_mode"
        if windows_error(passage):
            return "bad_passage"
        if isinstance(unlock_s, bool) or not isinstance(unlock_s, int) or not 1 <= unlock_s <= 60:
            return "bad_unlock_s"
        if isinstance(held_s, bool) or not isinstance(held_s, int) or not 5 <= held_s <= 3600:
            return "bad_held_s"
        self.mode, self.passage, self.unlock_s, self.held_s = mode, passage, unlock_s, held_s
        if persist:
            self._save()
        return None

    def set_offsets(self, offsets, persist=True):
        error = offset_table_error(offsets)
        if error:
            return error
        self.offsets = offsets
        if persist:
            self._save()
        return None

    def passage_active(self, now):
        """True while passage mode holds the door unlocked. Windows need a set clock; none = always."""
        if self.mode != "passage":
            return False
        if not self.passage:
            return True
        if now is None:
            return False  # unknown time: stay secure rather than guess
        return windows_allow(self.passage, local_seconds(self.offsets, now))
