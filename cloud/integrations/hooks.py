"""Where domain changes reach the integrations, inside the transaction of the change.

- events_ingested: lock events just stored by cloud.events.service.ingest_events (entries, forced and
  held-open doors -> webhooks; a card tap waiting for its face at a two-factor door -> matched);
- events_recorded: events the cloud records itself (a face verification's decision) -> webhooks;
- permission_versions_stepped: doors whose permission version moved -> permission_change webhooks;
- command_finished: a command reached done, failed or expired -> command_result webhook;
- lock_status_changed: the sync saw a lock go offline or come back -> lock_offline / lock_online;
- log_gap_recorded: cloud.events.gaps.record_gap stored a gap in a lock's log -> log_gap.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from cloud.commands.models import Command
from cloud.events.models import Event
from cloud.integrations.webhooks import kinds, payloads
from cloud.integrations.webhooks.outbox import emit, emit_many, subscribers
from cloud.models.door import Door

if TYPE_CHECKING:
    from cloud.events.gaps import EventGap

# The reason a two-factor lock gives a valid card that waits for its face (docs/INTEGRATIONS.md): no entry
# yet, so no entry webhook; the cloud pairs it with a face verification.
FACE_REQUIRED = "face_required"


def _entry_messages(
    *, session: Session, door: Door, events: Iterable[Event]
) -> list[tuple[str, dict[str, Any]]]:
    chosen = [
        (kinds.EVENT_KINDS[event.type], event)
        for event in events
        if event.type in kinds.EVENT_KINDS and not (event.type == "granted" and event.reason == FACE_REQUIRED)
    ]
    known = payloads.people(session=session, user_ids={e.user_id for _, e in chosen if e.user_id is not None})
    return [
        (kind, payloads.event_data(event, door, known.get(event.user_id) if event.user_id else None))
        for kind, event in chosen
    ]


def events_ingested(*, session: Session, door: Door, seqs: list[int]) -> None:
    """Lock events of `door` with these sequence numbers were just inserted."""
    wanted = set(kinds.EVENT_KINDS.values()) & set(subscribers(session=session, site_id=door.site_id))
    pairing = door.require_face_s > 0
    if not wanted and not pairing:
        return
    events = list(
        session.exec(
            select(Event).where(Event.door_id == door.id, col(Event.seq).in_(seqs)).order_by(col(Event.seq))
        ).all()
    )
    if wanted:
        emit_many(
            session=session,
            site_id=door.site_id,
            messages=_entry_messages(session=session, door=door, events=events),
        )
    if pairing:
        from cloud.integrations.verifications.second_factor import card_taps_arrived

        card_taps_arrived(session=session, door=door, events=events)


def events_recorded(*, session: Session, door: Door, events: list[Event]) -> None:
    """Events the cloud itself just added (flushed, with their ids)."""
    messages = _entry_messages(session=session, door=door, events=events)
    if messages:
        emit_many(session=session, site_id=door.site_id, messages=messages)


def permission_versions_stepped(*, session: Session, versions: dict[int, int]) -> None:
    """door id -> its new permission version (once per door and transaction)."""
    if not versions:
        return
    doors = session.exec(select(Door).where(col(Door.id).in_(list(versions))).order_by(col(Door.id))).all()
    by_site: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for door in doors:
        assert door.id is not None
        data = payloads.permission_data(door, versions[door.id])
        by_site.setdefault(door.site_id, []).append((kinds.PERMISSION_CHANGE, data))
    for site_id, messages in by_site.items():
        emit_many(session=session, site_id=site_id, messages=messages)


def command_finished(*, session: Session, command: Command) -> None:
    emit(
        session=session,
        site_id=command.site_id,
        kind=kinds.COMMAND_RESULT,
        payload=payloads.command_data(command),
    )


def lock_status_changed(*, session: Session, door: Door, online: bool, at: int) -> None:
    """For the sync worker: call when a lock goes offline (its status topic, a missed keepalive) or comes
    back online, in the transaction that records it."""
    kind = kinds.LOCK_ONLINE if online else kinds.LOCK_OFFLINE
    emit(
        session=session, site_id=door.site_id, kind=kind, payload=payloads.lock_status_data(door, online, at)
    )


def log_gap_recorded(*, session: Session, door: Door, gap: "EventGap") -> None:
    data = payloads.gap_data(door, gap.from_seq, gap.to_seq, gap.from_ts, gap.to_ts)
    emit(session=session, site_id=door.site_id, kind=kinds.LOG_GAP, payload=data)
