"""UTC-offset tables for the locks and the who-can-enter question, built from IANA zones (zoneinfo).

A table is [[start_utc, offset_minutes], ...] (shared_schema.schedule): the offset in force at T is that
of the last entry starting at or before T. zoneinfo does not list transitions, so we sample the offset
hourly and bisect each change to the second: real transitions are hours apart, never two in one hour.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shared_schema.schedule import MAX_OFFSET_ENTRIES

_STEP_S = 3600
_DAYS_PER_MONTH = 31
# datetime stops at the end of year 9999; a table must end before it (a few months of margin).
LAST_TABLE_START = int(datetime(9999, 6, 1, tzinfo=UTC).timestamp())


def _offset_minutes(zone: ZoneInfo, ts: int) -> int:
    offset = datetime.fromtimestamp(ts, tz=UTC).astimezone(zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // 60


def _transition_between(zone: ZoneInfo, low: int, high: int) -> int:
    """First second in (low, high] whose offset differs from low's."""
    before = _offset_minutes(zone, low)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_minutes(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def offset_table(tz_name: str, start: int, months: int) -> list[list[int]]:
    """Offsets from `start` (Unix seconds) for about `months` months, at most MAX_OFFSET_ENTRIES entries.

    The first entry starts at `start`; every DST change in the period adds one. Raises
    zoneinfo.ZoneInfoNotFoundError for an unknown zone name.
    """
    zone = ZoneInfo(tz_name)
    table = [[start, _offset_minutes(zone, start)]]
    end = start + months * _DAYS_PER_MONTH * 86400
    ts = start
    while ts < end and len(table) < MAX_OFFSET_ENTRIES:
        step_end = min(ts + _STEP_S, end)
        if _offset_minutes(zone, step_end) != table[-1][1]:
            change = _transition_between(zone, ts, step_end)
            table.append([change, _offset_minutes(zone, change)])
        ts = step_end
    return table
