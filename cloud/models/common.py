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


def storable_text(text: str) -> str:
    """Refuse what no database can store, the same way on both: NUL (PostgreSQL text cannot hold it) and
    lone UTF-16 surrogates (JSON can escape them, "\\ud800", but they have no UTF-8 form)."""
    if "\x00" in text:
        raise ValueError("text must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (a lone surrogate such as \\ud800 is not)") from None
    return text


# Weekly windows in site-local time, as shared_schema.schedule reads them: [days, start, end]. Strict
# integers: "540", 540.0 or true are refused, not silently converted.
WindowPart = Annotated[StrictInt, Field(ge=0, le=MINUTES_PER_DAY)]
Windows = Annotated[list[list[WindowPart]], AfterValidator(_check_windows)]
# Unix seconds, 0 meaning "unbounded" (validity) or "never" (last seen).
UnixTime = Annotated[int, Field(ge=0, le=MAX_COUNTER)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(storable_text)]
Label = Annotated[str, Field(max_length=200), AfterValidator(storable_text)]
Description = Annotated[str, Field(max_length=1000), AfterValidator(storable_text)]
Email = Annotated[str, Field(max_length=254), AfterValidator(storable_text)]
ExternalId = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(storable_text)]
# A database id (32-bit signed integer column): anything larger cannot exist.
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
