"""Access events as uploaded by the locks, resolved to door, credential and user at ingest."""

from typing import Literal

import sqlalchemy as sa
from sqlmodel import Field, Index, SQLModel, UniqueConstraint

EventResult = Literal["granted", "denied", "info"]


# How a person was identified: a card or a phone at the lock, a remote command, a face verified by an
# external terminal (cloud.integrations.verifications), or a card and a face together (two factors).
EventMethod = Literal["", "card", "phone", "remote", "face", "card+face"]


# One event. door_id/user_id/credential_id are plain columns, not foreign keys: history outlives
# the objects it mentions. seq is the lock's sequence number; events the cloud records itself (a face
# verification's decision) have none.
class Event(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("door_id", "seq"),
        Index("ix_event_site_ts_id", "site_id", "ts", "id"),
        Index("ix_event_door_ts_id", "door_id", "ts", "id"),
        Index("ix_event_user_ts_id", "user_id", "ts", "id"),
        Index("ix_event_ts_id", "ts", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    site_id: int
    door_id: int
    seq: int | None = Field(default=None, sa_type=sa.BigInteger)
    # Unix seconds; when the lock's clock was not set (ts 0 on the wire) the receive time, clock_set False.
    ts: int = Field(sa_type=sa.BigInteger)
    clock_set: bool = True
    type: str = Field(sa_type=sa.String(16))
    result: str = Field(sa_type=sa.String(8))
    cred_hash: str = Field(default="", sa_type=sa.String(32))
    credential_id: int | None = None
    user_id: int | None = None
    reason: str = Field(default="", sa_type=sa.String(24))
    received_at: int = Field(sa_type=sa.BigInteger)
    # How the door was asked: card, phone (a phone token or a mobile key), remote, face, card+face (the cloud
    # decided on an external authenticator's verification), or "" (door events).
    method: str = Field(default="", sa_type=sa.String(16))
    # The external authenticator (a face terminal) that identified the person, as it named itself.
    terminal_id: str = Field(default="", sa_type=sa.String(64))


# An event as the API shows it.
class EventPublic(SQLModel):
    id: int
    site_id: int
    door_id: int
    seq: int | None
    ts: int
    clock_set: bool
    type: str
    result: str
    cred_hash: str
    credential_id: int | None
    user_id: int | None
    reason: str
    received_at: int
    method: EventMethod
    terminal_id: str


# A page of events; pass next_cursor back as ?cursor= for the next page (null: no more).
class EventsPublic(SQLModel):
    data: list[EventPublic]
    count: int
    next_cursor: str | None


# One entry into a zone.
class PresenceEntry(SQLModel):
    event_id: int
    door_id: int
    ts: int


# One person who entered the zone in the interval (user_id None: a credential no longer known).
class PresencePerson(SQLModel):
    user_id: int | None
    name: str | None
    cred_hash: str
    first_entry: int
    last_entry: int
    entries: list[PresenceEntry]


# GET /zones/{id}/presence.
class PresencePublic(SQLModel):
    zone_id: int
    since: int
    until: int
    people: list[PresencePerson]
    count: int
    truncated: bool
