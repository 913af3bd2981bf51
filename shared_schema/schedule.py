# When a grant opens the door: validity period, weekly windows in site-local time, UTC-offset tables.
#
# Used by the lock (offline decisions) and the cloud ("who can enter at T"), so both read a schedule
# the same way. All instants are integer Unix seconds, UTC.
#
# Offset table: [[start_utc, offset_minutes], ...], strictly increasing starts. The offset in force at
# instant T is that of the last entry with start <= T (the first entry's before it). The cloud builds
# it from the site's IANA zone, covering the DST changes of the coming months.
#
# Window: [days, start_minute, end_minute] in local time. days is a bit mask, bit 0 = Monday ...
# bit 6 = Sunday. 0 <= start <= 1439, 1 <= end <= 1440, start != end. end > start: that day from
# start (inclusive) to end (exclusive). end < start: crosses midnight; it opens on a masked day at
# start and closes at end on the following day. A grant with no windows applies at any time.
#
# Validity: valid_from <= T < valid_until; 0 means unbounded on that side.

ALL_DAYS = 0x7F
MINUTES_PER_DAY = 1440
MAX_WINDOWS = 8
MAX_OFFSET_ENTRIES = 16
MAX_OFFSET_MINUTES = 18 * 60
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def utc_offset_minutes(table, utc_ts):
    offset = table[0][1] if table else 0
    for start, minutes in table:
        if start > utc_ts:
            break
        offset = minutes
    return offset


def local_seconds(table, utc_ts):
    return utc_ts + 60 * utc_offset_minutes(table, utc_ts)


def weekday_and_minute(local_ts):
    days = local_ts // 86400
    return (days + _EPOCH_WEEKDAY) % 7, (local_ts % 86400) // 60


def _day_bit(weekday):
    return 1 << (weekday % 7)


def window_allows(window, weekday, minute):
    days, start, end = window
    if start < end:
        return bool(days & _day_bit(weekday)) and start <= minute < end
    # Crosses midnight: the evening part on a masked day, the morning part on the day after one.
    if minute >= start:
        return bool(days & _day_bit(weekday))
    return minute < end and bool(days & _day_bit(weekday - 1))


def windows_allow(windows, local_ts):
    if not windows:
        return True
    weekday, minute = weekday_and_minute(local_ts)
    for window in windows:
        if window_allows(window, weekday, minute):
            return True
    return False


def within_validity(valid_from, valid_until, utc_ts):
    if valid_from and utc_ts < valid_from:
        return False
    if valid_until and utc_ts >= valid_until:
        return False
    return True


def is_time_limited(valid_from, valid_until, windows):
    """True when the answer depends on the clock (refused on a lock whose clock was never set)."""
    return bool(valid_from or valid_until or windows)


def grant_allows(valid_from, valid_until, windows, utc_ts, offset_table):
    if not within_validity(valid_from, valid_until, utc_ts):
        return False
    return windows_allow(windows, local_seconds(offset_table, utc_ts))


def window_error(window):
    """None if `window` is well formed, else a short reason."""
    if not isinstance(window, list) or len(window) != 3:
        return "window_shape"
    for part in window:
        if not isinstance(part, int) or isinstance(part, bool):
            return "window_type"
    days, start, end = window
    if not 1 <= days <= ALL_DAYS:
        return "window_days"
    if not 0 <= start < MINUTES_PER_DAY or not 1 <= end <= MINUTES_PER_DAY or start == end:
        return "window_minutes"
    return None


def offset_table_error(table):
    """None if `table` is a well-formed UTC-offset table, else a short reason."""
    if not isinstance(table, list) or not 1 <= len(table) <= MAX_OFFSET_ENTRIES:
        return "offsets_shape"
    previous = None
    for entry in table:
        if not isinstance(entry, list) or len(entry) != 2:
            return "offsets_shape"
        start, minutes = entry
        if not isinstance(start, int) or not isinstance(minutes, int):
            return "offsets_type"
        if isinstance(start, bool) or isinstance(minutes, bool):
            return "offsets_type"
        if not -MAX_OFFSET_MINUTES <= minutes <= MAX_OFFSET_MINUTES:
            return "offsets_range"
        if previous is not None and start <= previous:
            return "offsets_order"
        previous = start
    return None
