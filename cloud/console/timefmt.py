"""Instants shown and entered in the site's timezone (IANA zone of the site)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shared_schema.messages import MAX_COUNTER

DISPLAY_FORMAT = "%Y-%m-%d %H:%M:%S %Z"
INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


def local_time(ts: int, timezone: str) -> datetime:
    return datetime.fromtimestamp(ts, UTC).astimezone(ZoneInfo(timezone))


def format_instant(ts: int, timezone: str) -> str:
    """'2026-12-02 09:15:03 JST': local time with the zone's abbreviation (which tells DST hours apart)."""
    return local_time(ts, timezone).strftime(DISPLAY_FORMAT)


def iso_utc(ts: int) -> str:
    """The machine-readable form for <time datetime=...>."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def input_value(ts: int, timezone: str) -> str:
    """The value a datetime-local input shows for an instant."""
    return local_time(ts, timezone).strftime(INPUT_FORMAT)


def parse_local(text: str, timezone: str) -> int:
    """Unix seconds of a datetime-local value read in the site's zone; ValueError if it is not one.

    A wall time that a DST change skips or repeats is read as the first of its readings (fold 0), the way
    zoneinfo does; the page shows the resulting instant with its zone abbreviation.
    """
    naive = datetime.strptime(text.strip()[:16], INPUT_FORMAT)
    ts = int(naive.replace(tzinfo=ZoneInfo(timezone)).timestamp())
    if not 0 <= ts <= MAX_COUNTER:
        raise ValueError("instant out of range")
    return ts
