"""Field types shared by several models: windows, validity instants, pagination."""

import time
from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt

from shared_schema.messages import MAX_COUNTER
from shared_schema.schedule import MAX_WINDOWS, MINUTES_PER_DAY, window_error


def now_ts() -> int:
    return int(time.time())


def _check_windows(windows: list[list[int]]) -> list[list[int]]:
    if len(windows) > MAX_WINDOWS:
        raise ValueError(f"at most {MAX_WINDOWS} windows")
    for index, window in enumerate(windows):
        error = window_error(window)
        if error:
            raise ValueError(
                f"window {index}: {error} (expected [days_mask 1..127, start_minute 0..1439, "
                "end_minute 1..1440], start != end)"
            )
    return windows


def _no_nul(text: str) -> str:
    # PostgreSQL cannot store NUL in text; refuse it everywhere so both databases behave the same.
    if "\x00" in text:
        raise ValueError("text must not contain NUL characters")
    return text


# Weekly windows in site-local time, as shared_schema.schedule reads them: [days, start, end]. Strict
# integers: "540", 540.0 or true are refused, not silently converted.
WindowPart = Annotated[StrictInt, Field(ge=0, le=MINUTES_PER_DAY)]
Windows = Annotated[list[list[WindowPart]], AfterValidator(_check_windows)]
# Unix seconds, 0 meaning "unbounded" (validity) or "never" (last seen).
UnixTime = Annotated[int, Field(ge=0, le=MAX_COUNTER)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
Label = Annotated[str, Field(max_length=200), AfterValidator(_no_nul)]
Description = Annotated[str, Field(max_length=1000), AfterValidator(_no_nul)]
Email = Annotated[str, Field(max_length=254), AfterValidator(_no_nul)]
ExternalId = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_no_nul)]
# A database id (32-bit signed integer column): anything larger cannot exist.
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
