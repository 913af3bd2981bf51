# Wall-clock time, and whether it can be trusted for decisions (docs/PROTOCOL.md "Time and freshness").
#
# The HAL's rtc.now() returns Unix seconds (UTC) or None when it was never set since power-on. The clock is
# TRUSTED when it was set this boot by a verified `time` message (set_trusted, any step, backwards included),
# or when the RTC kept running across a reset and reads at or after the trusted-time floor persisted in
# core.state (so a reset can never move trusted time backwards). An untrusted source (NTP, a user) may set
# the RTC only while the clock is not trusted, and never makes it trusted: such time serves TLS certificate
# checks (now()), never decisions (trusted_now()). An RTC set that way is marked in the state, so that it
# is not trusted after a reset either.
#
# The floor follows trusted time, refreshed at most once an hour (refresh_floor(), from the main loop), so
# flash wear stays bounded: one small state write an hour.
from micropython import const

from core.state import FLAG_CLOCK_UNTRUSTED

# Anything before 2024-01-01 cannot be a real "now": refuse it rather than open doors on a wrong date. The
# floor is persisted as u32 (until 2106).
MIN_PLAUSIBLE_UNIX = 1704067200
MAX_PLAUSIBLE_UNIX = 0xFFFFFFFF
FLOOR_REFRESH_S = const(3600)
UNTRUSTED_SOURCES = ("ntp", "user")


def _bad_time(unix_seconds):
    if isinstance(unix_seconds, bool) or not isinstance(unix_seconds, int):
        return "bad_time"
    if not MIN_PLAUSIBLE_UNIX <= unix_seconds <= MAX_PLAUSIBLE_UNIX:
        return "time_implausible"
    return None


class Clock:
    def __init__(self, rtc, state):
        self._rtc = rtc
        self._state = state
        reading = self.now()
        # The RTC kept running across a reset: trusted iff nothing untrusted set it and it has not gone
        # below the last trusted time persisted (a lost state is resync: never trusted at boot).
        self.trusted = (
            reading is not None and not state.resync and not state.has(FLAG_CLOCK_UNTRUSTED)
            and state.time_floor > 0 and reading >= state.time_floor
        )
        self._low = reading if self.trusted else 0  # trusted time never goes below this without set_trusted
        self.source = "rtc" if reading is not None else "none"
        self._set_at = None  # the clock reading right after the last trusted set this boot

    @staticmethod
    def time_error(unix_seconds):
        """None, or why `unix_seconds` cannot be a real "now"."""
        return _bad_time(unix_seconds)

    def now(self):
        """Unix seconds UTC from the RTC, trusted or not (TLS), or None while never set since power-on."""
        value = self._rtc.now() if self._rtc is not None else None
        if value is None:
            return None
        return int(value)

    def trusted_now(self):
        """Unix seconds UTC if the clock is trusted, else None: what decisions and events use."""
        if not self.trusted:
            return None
        value = self.now()
        if value is None or value < self._low:
            self.trusted = False  # the RTC lost its time or was moved back behind our back
            return None
        self._low = value
        return value

    def set_trusted(self, unix_seconds):
        """A verified `time`: set the clock, trusted; the floor is persisted first. Returns None or a
        refusal reason; raises OSError if the floor cannot be persisted (nothing changed then)."""
        error = _bad_time(unix_seconds)
        if error:
            return error
        if self._rtc is None:
            return "no_rtc"
        self._state.set_time_floor(unix_seconds)
        self._state.set_flag(FLAG_CLOCK_UNTRUSTED, False)
        self._rtc.set(unix_seconds)
        self.trusted, self.source, self._low, self._set_at = True, "cloud", unix_seconds, unix_seconds
        return None

    def set_untrusted(self, unix_seconds, source="ntp"):
        """NTP or a user: sets the RTC only while the clock is not trusted, and never makes it trusted.
        Returns None or a refusal reason; raises OSError if the mark cannot be persisted."""
        if source not in UNTRUSTED_SOURCES:
            return "bad_time_source"
        if self.trusted:
            return "clock_trusted"
        error = _bad_time(unix_seconds)
        if error:
            return error
        if self._rtc is None:
            return "no_rtc"
        self._state.set_flag(FLAG_CLOCK_UNTRUSTED)  # before the RTC changes: never trusted after a reset
        self._rtc.set(unix_seconds)
        self.source = "ntp" if source == "ntp" else "rtc"  # hello's clk names no "user": a local RTC set
        return None

    def refresh_floor(self):
        """Move the persisted floor up to trusted time, at most once an hour. Raises OSError."""
        now = self.trusted_now()
        if now is not None and now - self._state.time_floor >= FLOOR_REFRESH_S:
            self._state.set_time_floor(now)

    def sync_age(self):
        """Seconds since the last trusted set this boot, or -1 when unknown (none since boot)."""
        now = self.trusted_now()
        if self._set_at is None or now is None:
            return -1
        return max(0, now - self._set_at)
