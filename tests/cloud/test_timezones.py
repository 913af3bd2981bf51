"""cloud.timezones.offset_table against zoneinfo, and against the lock's reading of the table."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cloud.timezones import offset_table
from shared_schema.schedule import MAX_OFFSET_ENTRIES, offset_table_error, utc_offset_minutes

JAN_2026 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())


def _zoneinfo_minutes(zone: str, ts: int) -> int:
    offset = datetime.fromtimestamp(ts, tz=UTC).astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // 60


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Paris",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Tokyo",
        "America/Santiago",
        "Asia/Kolkata",
        "UTC",
    ],
)
def test_table_agrees_with_zoneinfo_every_hour_of_the_year(zone: str) -> None:
    table = offset_table(zone, JAN_2026, 12)
    assert offset_table_error(table) is None
    for ts in range(JAN_2026, JAN_2026 + 365 * 86400, 3600):
        assert utc_offset_minutes(table, ts) == _zoneinfo_minutes(zone, ts), (zone, ts)


def test_transitions_are_exact_to_the_second() -> None:
    table = offset_table("Europe/Paris", JAN_2026, 12)
    spring = int(datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp())
    autumn = int(datetime(2026, 10, 25, 1, 0, tzinfo=UTC).timestamp())
    assert table == [[JAN_2026, 60], [spring, 120], [autumn, 60]]
    assert offset_table("Asia/Tokyo", JAN_2026, 12) == [[JAN_2026, 540]]


def test_long_periods_are_capped_at_the_contract_limit() -> None:
    table = offset_table("Europe/Paris", JAN_2026, 120)
    assert len(table) == MAX_OFFSET_ENTRIES and offset_table_error(table) is None


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(Exception, match="No time zone"):
        offset_table("Mars/Olympus", JAN_2026, 1)
