# Wall-clock time for decisions: where it came from and how long ago it was last set.
#
# The HAL's rtc.now() returns Unix seconds (UTC) or None when the clock was never set since boot. While it
# is None, time-limited grants are refused (core.decision) and events carry ts 0.
from shared_schema.vocabulary import TIME_SOURCES

# Anything before 2024-01-01 cannot be a real "now": refuse it rather than open doors on a wrong date.
MIN_PLAUSIBLE_UNIX = 1704067200


class Clock:
    def __init__(self, rtc):
        self._rtc = rtc
        # The clock reading right after our last set(), None if not set by us since boot. The age is
        # measured on the clock itself (ticks_ms wraps after ~12 days; sync ages can be longer).
        self._set_at = None
        # An RTC that already runs at boot kept its time across a soft reset: usable, age unknown.
        self.source = "rtc" if self.now() is not None else "none"

    def now(self):
        """Unix seconds UTC, or None while the clock has never been set since boot."""
        value = self._rtc.now() if self._rtc is not None else None
        if value is None:
            return None
        return int(value)

    def set(self, unix_seconds, source):
        """Set the clock; returns None or a refusal reason."""
        if source not in TIME_SOURCES or source == "none":
            return "bad_time_source"
        if isinstance(unix_seconds, bool) or not isinstance(unix_seconds, int):
            return "bad_time"
        if unix_seconds < MIN_PLAUSIBLE_UNIX:
            return "time_implausible"
        if self._rtc is None:
            return "no_rtc"
        self._rtc.set(unix_seconds)
        self.source = source
        self._set_at = unix_seconds
        return None

    def sync_age(self):
        """Seconds since the last set(), or -1 when unknown (never set, or set before this boot)."""
        now = self.now()
        if self._set_at is None or now is None:
            return -1
        return max(0, now - self._set_at)
