"""Answers of GET /attendance."""

from sqlmodel import SQLModel


# One person on one working day. Instants are Unix seconds with their site-local ISO 8601 form beside.
# first_entry: the first granted entry at an "in" door; last_exit: the last one at an "out" door (none
# without exit readers); last_seen: the last granted entry at any door. incomplete: a gap in some lock's log
# of the site overlaps the day (events of anyone may be missing); clock_unset: a time is the cloud's
# receive time because the lock's clock was not set.
class AttendanceDay(SQLModel):
    date: str
    user_id: int
    name: str | None
    external_id: str | None
    first_entry: int | None
    first_entry_local: str | None
    last_exit: int | None
    last_exit_local: str | None
    last_seen: int
    last_seen_local: str
    doors: list[int]
    entries: int
    incomplete: bool
    clock_unset: bool


# A working day with a gap in the log of these doors.
class IncompleteDay(SQLModel):
    date: str
    door_ids: list[int]


# GET /attendance: days from..to (inclusive), each running from day_boundary_minute local time to the same
# time the next day.
class AttendancePublic(SQLModel):
    site_id: int
    timezone: str
    day_boundary_minute: int
    from_date: str
    to_date: str
    data: list[AttendanceDay]
    count: int
    incomplete_days: list[IncompleteDay]
