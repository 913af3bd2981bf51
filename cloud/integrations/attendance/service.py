"""Attendance from the entry log, one working day at a time (memory bounded by one day's entries).

A working day D runs from D at the site's day boundary (local time, e.g. 05:00) to D + 1 at the same local
time, so a night shift from 22:00 to 04:00 is one day. DST days are 23 or 25 hours long, as the clock says.
Entries are granted events with a person (card, phone, face, card+face); a card tap held for its face at a
two-factor door is not an entry (the completed pair is). Any gap in a lock's log of the site that overlaps
a day makes that day incomplete for everyone: the lost events could be anyone's.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from cloud.csvcells import spreadsheet_safe
from cloud.events.gaps import EventGap
from cloud.events.models import Event
from cloud.integrations.attendance.models import AttendanceDay, AttendancePublic, IncompleteDay
from cloud.integrations.hooks import FACE_REQUIRED
from cloud.models.door import Door
from cloud.models.site import Site
from cloud.models.user import User

CSV_COLUMNS = (
    "date",
    "user_id",
    "external_id",
    "name",
    "first_entry",
    "last_exit",
    "last_seen",
    "doors",
    "entries",
    "incomplete",
    "clock_unset",
)


def day_window(site: Site, day: date) -> tuple[int, int]:
    """[start, end) in Unix seconds of the working day `day` of the site."""
    zone = ZoneInfo(site.timezone)
    hour, minute = divmod(site.day_boundary_minute, 60)
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, hour, minute, tzinfo=zone)
    return int(start.timestamp()), int(end.timestamp())


def local_iso(ts: int, timezone: str) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(timezone)).isoformat()


@dataclass
class _Person:
    first_entry: int | None = None
    last_exit: int | None = None
    last_seen: int = 0
    doors: set[int] = field(default_factory=set)
    entries: int = 0
    clock_unset: bool = False


def _gap_doors(*, session: Session, site_id: int, start: int, end: int) -> list[int]:
    """Doors of the site whose log has a gap overlapping [start, end) (an unknown bound is unbounded)."""
    rows = session.exec(
        select(EventGap.door_id)
        .where(
            EventGap.site_id == site_id,
            or_(col(EventGap.from_ts) == 0, col(EventGap.from_ts) < end),
            or_(col(EventGap.to_ts) == 0, col(EventGap.to_ts) >= start),
        )
        .distinct()
    ).all()
    return sorted(rows)


def _entries(*, session: Session, site_id: int, start: int, end: int, user_id: int | None) -> list[sa.Row]:
    query = sa.select(col(Event.user_id), col(Event.ts), col(Event.door_id), col(Event.clock_set)).where(
        col(Event.site_id) == site_id,
        col(Event.result) == "granted",
        col(Event.user_id).is_not(None),
        col(Event.ts) >= start,
        col(Event.ts) < end,
        sa.not_(sa.and_(col(Event.type) == "granted", col(Event.reason) == FACE_REQUIRED)),
    )
    if user_id is not None:
        query = query.where(col(Event.user_id) == user_id)
    return list(session.execute(query.order_by(col(Event.ts), col(Event.id))).all())


def _people_of_day(rows: list[sa.Row], exits: set[int]) -> dict[int, _Person]:
    people: dict[int, _Person] = {}
    for user_id, ts, door_id, clock_set in rows:
        person = people.setdefault(user_id, _Person())
        if door_id in exits:
            person.last_exit = ts
        elif person.first_entry is None:
            person.first_entry = ts
        person.last_seen = ts
        person.doors.add(door_id)
        person.entries += 1
        person.clock_unset = person.clock_unset or not clock_set
    return people


def iter_attendance(
    *, session: Session, site: Site, first: date, last: date, user_id: int | None = None
) -> Iterator[tuple[list[AttendanceDay], IncompleteDay | None]]:
    """Each working day from `first` to `last`: its people (by user id) and its gaps, if any."""
    assert site.id is not None
    exits = {
        door_id
        for door_id in session.exec(
            select(Door.id).where(Door.site_id == site.id, Door.direction == "out")
        ).all()
        if door_id is not None
    }
    day = first
    while day <= last:
        start, end = day_window(site, day)
        gap_doors = _gap_doors(session=session, site_id=site.id, start=start, end=end)
        entries = _entries(session=session, site_id=site.id, start=start, end=end, user_id=user_id)
        people = _people_of_day(entries, exits)
        users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(list(people)))).all()}
        rows = [
            _day(site, day, person_id, person, users.get(person_id), incomplete=bool(gap_doors))
            for person_id, person in sorted(people.items())
        ]
        yield rows, IncompleteDay(date=day.isoformat(), door_ids=gap_doors) if gap_doors else None
        day += timedelta(days=1)


def _day(
    site: Site, day: date, user_id: int, person: _Person, user: User | None, incomplete: bool
) -> AttendanceDay:
    def local(ts: int | None) -> str | None:
        return None if ts is None else local_iso(ts, site.timezone)

    return AttendanceDay(
        date=day.isoformat(),
        user_id=user_id,
        name=user.name if user else None,
        external_id=user.external_id if user else None,
        first_entry=person.first_entry,
        first_entry_local=local(person.first_entry),
        last_exit=person.last_exit,
        last_exit_local=local(person.last_exit),
        last_seen=person.last_seen,
        last_seen_local=local_iso(person.last_seen, site.timezone),
        doors=sorted(person.doors),
        entries=person.entries,
        incomplete=incomplete,
        clock_unset=person.clock_unset,
    )


def attendance(
    *, session: Session, site: Site, first: date, last: date, user_id: int | None = None
) -> AttendancePublic:
    assert site.id is not None
    data: list[AttendanceDay] = []
    incomplete: list[IncompleteDay] = []
    for rows, gaps in iter_attendance(session=session, site=site, first=first, last=last, user_id=user_id):
        data.extend(rows)
        if gaps is not None:
            incomplete.append(gaps)
    return AttendancePublic(
        site_id=site.id,
        timezone=site.timezone,
        day_boundary_minute=site.day_boundary_minute,
        from_date=first.isoformat(),
        to_date=last.isoformat(),
        data=data,
        count=len(data),
        incomplete_days=incomplete,
    )


def csv_lines(
    *, session: Session, site: Site, first: date, last: date, user_id: int | None = None
) -> Iterator[str]:
    """The CSV export, one working day per chunk (times in the site's local ISO 8601; doors by name)."""
    assert site.id is not None
    names = dict(session.exec(select(Door.id, Door.name).where(Door.site_id == site.id)).all())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for rows, _ in iter_attendance(session=session, site=site, first=first, last=last, user_id=user_id):
        for row in rows:
            writer.writerow(
                [
                    row.date,
                    row.user_id,
                    spreadsheet_safe(row.external_id or ""),
                    spreadsheet_safe(row.name or ""),
                    row.first_entry_local or "",
                    row.last_exit_local or "",
                    row.last_seen_local,
                    spreadsheet_safe("; ".join(names.get(door, str(door)) for door in row.doors)),
                    row.entries,
                    "yes" if row.incomplete else "",
                    "yes" if row.clock_unset else "",
                ]
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
