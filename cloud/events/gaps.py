"""Gaps in a lock's event log: events the cloud will never receive (the lock's log overflowed, a segment
was lost). The MQTT sync records them (record_gap) when a batch's sequence numbers jump where the lock's
`dropped` count rose; attendance flags the days they touch as incomplete."""

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, UniqueConstraint, select

from cloud.integrations.hooks import log_gap_recorded
from cloud.models.common import now_ts
from cloud.models.door import Door


# Events from_seq..to_seq (inclusive) of the door's lock are lost. They happened between from_ts (the last
# event before the gap) and to_ts (the first one after it); 0 = not known (unbounded on that side).
class EventGap(SQLModel, table=True):
    __tablename__ = "event_gap"
    __table_args__ = (
        UniqueConstraint("door_id", "from_seq"),
        sa.Index("ix_event_gap_site_to_ts", "site_id", "to_ts"),
    )
    id: int | None = Field(default=None, primary_key=True)
    site_id: int
    door_id: int = Field(index=True)
    from_seq: int = Field(sa_type=sa.BigInteger)
    to_seq: int = Field(sa_type=sa.BigInteger)
    from_ts: int = Field(default=0, sa_type=sa.BigInteger)
    to_ts: int = Field(default=0, sa_type=sa.BigInteger)
    recorded_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


def record_gap(
    *, session: Session, door: Door, from_seq: int, to_seq: int, from_ts: int = 0, to_ts: int = 0
) -> EventGap:
    """Record that the door's events from_seq..to_seq are lost, and queue its log_gap webhook. Idempotent on
    (door, from_seq): recording the same gap again returns the stored row and queues nothing. Flushes."""
    if not 1 <= from_seq <= to_seq:
        raise ValueError(f"a gap needs 1 <= from_seq <= to_seq (got {from_seq}..{to_seq})")
    existing = session.exec(
        select(EventGap).where(EventGap.door_id == door.id, EventGap.from_seq == from_seq)
    ).first()
    if existing is not None:
        return existing
    assert door.id is not None
    gap = EventGap(
        site_id=door.site_id, door_id=door.id, from_seq=from_seq, to_seq=to_seq, from_ts=from_ts, to_ts=to_ts
    )
    session.add(gap)
    session.flush()
    log_gap_recorded(session=session, door=door, gap=gap)
    return gap
