"""Instants on console pages: shown and read in the site's IANA zone, DST included."""

import pytest

from cloud.console.timefmt import format_instant, input_value, iso_utc, parse_local


def test_shown_in_the_site_zone_with_its_abbreviation() -> None:
    ts = 1_784_000_000  # 2026-07-14 03:33:20 UTC
    assert format_instant(ts, "Asia/Tokyo") == "2026-07-14 12:33:20 JST"
    assert format_instant(ts, "Europe/Paris") == "2026-07-14 05:33:20 CEST"
    assert format_instant(ts + 180 * 86400, "Europe/Paris").endswith("CET")
    assert iso_utc(ts) == "2026-07-14T03:33:20Z"
    assert input_value(ts, "Asia/Tokyo") == "2026-07-14T12:33"


def test_read_in_the_site_zone_and_round_trips() -> None:
    assert parse_local("2026-07-14T12:33", "Asia/Tokyo") == 1_784_000_000 - 20
    assert parse_local("2026-07-14T05:33", "Europe/Paris") == 1_784_000_000 - 20
    # The autumn night in Paris: 02:30 happens twice; the first (summer time) is taken.
    first = parse_local("2026-10-25T02:30", "Europe/Paris")
    assert format_instant(first, "Europe/Paris") == "2026-10-25 02:30:00 CEST"
    # The spring gap: 02:30 does not exist; it is read with the offset before the change, i.e. 03:30 CEST.
    skipped = parse_local("2026-03-29T02:30", "Europe/Paris")
    assert format_instant(skipped, "Europe/Paris") == "2026-03-29 03:30:00 CEST"


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00", "2026-07-14", "1969-12-31T00:00"])
def test_refuses_what_is_not_a_local_date_time(text: str) -> None:
    with pytest.raises(ValueError):
        parse_local(text, "UTC")
