"""Events the cloud records itself, beside those its locks upload: a face verification's decision is an entry
(or a refusal) at the door, logged with the method and the terminal that identified the person. Such events
have no lock sequence number (seq null); they are listed, exported and counted like the locks' own."""

from sqlmodel import Session

from cloud.events.models import Event
from cloud.integrations.hooks import events_recorded
from cloud.models.door import Door


def record_cloud_event(
    *,
    session: Session,
    door: Door,
    ts: int,
    granted: bool,
    user_id: int,
    reason: str,
    method: str,
    terminal_id: str,
    credential_id: int | None = None,
    cred_hash: str = "",
) -> Event:
    """Store a granted or denied entry decided by the cloud, and queue its webhook. Flushes."""
    assert door.id is not None
    kind = "granted" if granted else "denied"
    event = Event(
        site_id=door.site_id,
        door_id=door.id,
        seq=None,
        ts=ts,
        clock_set=True,
        type=kind,
        result=kind,
        cred_hash=cred_hash,
        credential_id=credential_id,
        user_id=user_id,
        reason=reason[:24],
        method=method,
        terminal_id=terminal_id,
        received_at=ts,
    )
    session.add(event)
    session.flush()
    events_recorded(session=session, door=door, events=[event])
    return event
