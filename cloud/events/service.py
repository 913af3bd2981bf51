"""Ingesting lock events and querying them: filters, keyset pagination on (ts, id), zone presence.

ingest_events() is what the MQTT sync (a later issue) calls with a decoded "events" payload.
"""

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import insert
from sqlmodel import Session, and_, col, or_, select

from cloud.errors import Invalid
from cloud.events.method import event_method, methods_of
from cloud.events.models import Event, PresenceEntry, PresencePerson, PresencePublic
from cloud.integrations.hooks import events_ingested
from cloud.models.common import now_ts
from cloud.models.credential import Credential
from cloud.models.door import Door
from cloud.models.user import User
from cloud.models.zone import Zone, ZoneDoor
from shared_schema.credentials import HASH_HEX_CHARS
from shared_schema.messages import EVENT_TYPES, MAX_COUNTER

_RESULTS = {"granted": "granted", "denied": "denied"}  # every other event type is "info"


@dataclass
class IngestResult:
    stored: int
    duplicates: int
    rejected: int
    upto: int  # highest valid seq seen in the batch: what the cloud acknowledges (ev_ack)


def _event_error(event: Any) -> str | None:
    if not isinstance(event, list | tuple) or len(event) != 5:
        return "shape"
    seq, ts, kind, cred, reason = event
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_COUNTER:
        return "seq"
    if not isinstance(ts, int) or isinstance(ts, bool) or not 0 <= ts <= MAX_COUNTER:
        return "ts"
    if kind not in EVENT_TYPES:
        return "type"
    if not isinstance(cred, str) or (
        cred and (len(cred) != HASH_HEX_CHARS or cred.strip("0123456789abcdef"))
    ):
        return "cred"
    if not isinstance(reason, str) or len(reason) > 24:
        return "reason"
    return None


def ingest_events(
    *, session: Session, door: Door, events: list[Any], received_at: int | None = None
) -> IngestResult:
    """Store a batch of [seq, ts, type, cred_hash, reason] events from one door; flushes, no commit.

    Duplicates (same door and seq: a lock resending after a lost ack) are counted and skipped;
    malformed events are counted and skipped. Hashes resolve to the credential and user enrolled now.
    Stored events queue their webhooks (entries, forced and held-open doors) in the same transaction, and a
    card tap waiting for its face at a two-factor door is matched (cloud.integrations.hooks).
    """
    received_at = received_at or now_ts()
    valid = [event for event in events if _event_error(event) is None]
    seqs = [event[0] for event in valid]
    known = set(
        session.exec(select(Event.seq).where(Event.door_id == door.id, col(Event.seq).in_(seqs))).all()
    )
    hashes = {event[3] for event in valid if event[3]}
    owners = {
        cred_hash: (cred_id, user_id)
        for cred_hash, cred_id, user_id in session.exec(
            select(Credential.cred_hash, Credential.id, Credential.user_id).where(
                Credential.site_id == door.site_id, col(Credential.cred_hash).in_(hashes)
            )
        ).all()
    }
    methods = methods_of(session=session, site_id=door.site_id, hashes=hashes)
    rows = []
    for seq, ts, kind, cred, reason in valid:
        if seq in known:
            continue
        known.add(seq)
        credential_id, user_id = owners.get(cred, (None, None))
        rows.append(
            {
                "site_id": door.site_id,
                "door_id": door.id,
                "seq": seq,
                "ts": ts or received_at,
                "clock_set": ts != 0,
                "type": kind,
                "result": _RESULTS.get(kind, "info"),
                "cred_hash": cred,
                "credential_id": credential_id,
                "user_id": user_id,
                "reason": reason,
                "received_at": received_at,
                "method": event_method(methods, kind, cred, reason),
            }
        )
    if rows:
        session.execute(insert(Event), rows)
        events_ingested(session=session, door=door, seqs=[row["seq"] for row in rows])
    session.flush()
    return IngestResult(
        stored=len(rows),
        duplicates=len(valid) - len(rows),
        rejected=len(events) - len(valid),
        upto=max(seqs, default=0),
    )


# --- queries ----------------------------------------------------------------------------------


@dataclass
class EventFilter:
    site_id: int | None = None  # the caller's scope
    door_id: int | None = None
    zone_id: int | None = None
    user_id: int | None = None
    result: str | None = None
    since: int | None = None  # inclusive
    until: int | None = None  # exclusive


def encode_cursor(ts: int, event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{ts}:{event_id}".encode()).decode()


_CURSOR = re.compile(r"([0-9]{1,20}):([0-9]{1,20})")
_MAX_EVENT_ID = 2**63 - 1


def decode_cursor(cursor: str) -> tuple[int, int]:
    """(ts, id) of the last event of the previous page; anything else is a 422 on the query's cursor.

    Both numbers are checked against what the columns can hold, so a forged cursor gets the same answer
    on SQLite (which would overflow) and on PostgreSQL.
    """
    try:
        match = _CURSOR.fullmatch(base64.urlsafe_b64decode(cursor.encode()).decode("ascii"))
    except (ValueError, binascii.Error, UnicodeError):
        match = None
    if match is None or int(match[1]) > MAX_COUNTER or int(match[2]) > _MAX_EVENT_ID:
        raise Invalid("cursor", "not a cursor returned by this API", location="query")
    return int(match[1]), int(match[2])


def _filtered(filters: EventFilter) -> Any:
    query = select(Event)
    if filters.site_id is not None:
        query = query.where(Event.site_id == filters.site_id)
    if filters.door_id is not None:
        query = query.where(Event.door_id == filters.door_id)
    if filters.zone_id is not None:
        query = query.where(
            col(Event.door_id).in_(select(ZoneDoor.door_id).where(ZoneDoor.zone_id == filters.zone_id))
        )
    if filters.user_id is not None:
        query = query.where(Event.user_id == filters.user_id)
    if filters.result is not None:
        query = query.where(Event.result == filters.result)
    if filters.since is not None:
        query = query.where(Event.ts >= filters.since)
    if filters.until is not None:
        query = query.where(Event.ts < filters.until)
    return query


def _page_query(filters: EventFilter, after: tuple[int, int] | None, limit: int) -> Any:
    """Newest first, keyset on (ts, id): each page starts strictly after the previous page's last row."""
    query = _filtered(filters)
    if after is not None:
        ts, event_id = after
        query = query.where(or_(Event.ts < ts, and_(Event.ts == ts, col(Event.id) < event_id)))
    return query.order_by(col(Event.ts).desc(), col(Event.id).desc()).limit(limit)


def list_events(
    *, session: Session, filters: EventFilter, cursor: str | None, limit: int
) -> tuple[list[Event], str | None]:
    after = decode_cursor(cursor) if cursor else None
    rows = list(session.exec(_page_query(filters, after, limit + 1)).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    assert last.id is not None
    return rows, encode_cursor(last.ts, last.id)


def iter_events(*, session: Session, filters: EventFilter, batch: int = 1000) -> Iterator[Event]:
    """Every matching event, newest first, fetched page by page (bounded memory for CSV export)."""
    after = None
    while True:
        rows = list(session.exec(_page_query(filters, after, batch)).all())
        yield from rows
        if len(rows) < batch:
            return
        assert rows[-1].id is not None
        after = (rows[-1].ts, rows[-1].id)


CSV_COLUMNS = (
    "id",
    "ts",
    "door_id",
    "seq",
    "type",
    "result",
    "user_id",
    "credential_id",
    "cred_hash",
    "reason",
    "method",
    "terminal_id",
    "clock_set",
    "received_at",
)


def zone_presence(*, session: Session, zone: Zone, since: int, until: int, limit: int) -> PresencePublic:
    """Who entered the zone (a granted event at one of its doors) in [since, until), with each entry."""
    assert zone.id is not None
    zone_doors = select(ZoneDoor.door_id).where(ZoneDoor.zone_id == zone.id)
    rows = session.execute(
        sa.select(col(Event.id), col(Event.door_id), col(Event.ts), col(Event.user_id), col(Event.cred_hash))
        .where(
            col(Event.door_id).in_(zone_doors),
            col(Event.result) == "granted",
            col(Event.ts) >= since,
            col(Event.ts) < until,
        )
        .order_by(col(Event.ts), col(Event.id))
        .limit(limit + 1)
    ).all()
    truncated = len(rows) > limit
    people: dict[tuple[int | None, str], PresencePerson] = {}
    for event_id, door_id, ts, user_id, cred_hash in rows[:limit]:
        key = (user_id, "" if user_id is not None else cred_hash)
        person = people.get(key)
        if person is None:
            person = people[key] = PresencePerson(
                user_id=user_id, name=None, cred_hash=key[1], first_entry=ts, last_entry=ts, entries=[]
            )
        person.entries.append(PresenceEntry(event_id=event_id, door_id=door_id, ts=ts))
        person.last_entry = ts
    user_ids = [user_id for user_id, _ in people if user_id is not None]
    names = dict(session.exec(select(User.id, User.name).where(col(User.id).in_(user_ids))).all())
    ordered = sorted(people.values(), key=lambda p: (p.user_id is None, p.user_id or 0, p.cred_hash))
    for person in ordered:
        person.name = names.get(person.user_id) if person.user_id is not None else None
    return PresencePublic(
        zone_id=zone.id, since=since, until=until, people=ordered, count=len(ordered), truncated=truncated
    )
