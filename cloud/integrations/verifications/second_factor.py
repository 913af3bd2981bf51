"""Card AND face within N seconds at a two-factor door (door.require_face_s = N > 0): the cloud's half.

The lock's half (docs/INTEGRATIONS.md "Two factors"): at such a door a valid card does not open; the lock
logs it as `granted` with reason `face_required`, uploads it at once, and holds it for N seconds; the
cloud's one-shot `cmd unlock` (whose expiry `x` is the end of that hold) opens the door.

The cloud's half, either order:
- card first: the tap arrives (ingest -> card_taps_arrived) and waits; a verification of the same person at
  that door while the tap is at most N seconds old completes it (service.verify -> waiting_card_tap);
- face first: the verification waits (awaiting_card, expires_at = its time + N); a tap of that person at
  that door arriving while the verification waits completes it (card_taps_arrived).
Completing = the verification becomes granted (card_and_face) with a one-shot unlock expiring N seconds
after the first of the two factors, and an entry event with method card+face. Each tap and each
verification completes at most one pair. The lock's clock and the cloud's may differ: the two factors
pair when their times are at most N seconds apart, but never after the hold has ended by the cloud's clock.
"""

from sqlmodel import Session, col, select

from cloud.auth.operator import ROLE_INTEGRATION, Operator
from cloud.events.models import Event
from cloud.integrations.hooks import FACE_REQUIRED
from cloud.integrations.verifications.decisions import audit_verification, open_door
from cloud.integrations.verifications.models import Verification
from cloud.models.api_key import ApiKey
from cloud.models.common import now_ts
from cloud.models.door import Door


def waiting_card_tap(*, session: Session, door: Door, user_id: int, at: int) -> Event | None:
    """The person's latest card tap held for a face at this door, still within the hold at `at`."""
    window = door.require_face_s
    completed = select(Verification.card_event_id).where(col(Verification.card_event_id).is_not(None))
    query = (
        select(Event)
        .where(
            Event.door_id == door.id,
            Event.user_id == user_id,
            Event.type == "granted",
            Event.reason == FACE_REQUIRED,
            Event.ts > at - window,
            Event.ts <= at + window,
            col(Event.id).not_in(completed),
        )
        .order_by(col(Event.ts).desc(), col(Event.id).desc())
    )
    return session.exec(query).first()


def face_arrived(
    *, session: Session, operator: Operator, door: Door, verification: Verification, at: int
) -> None:
    """An allowed face at a card-and-face door: completes the person's waiting card tap, or waits for one."""
    card = waiting_card_tap(session=session, door=door, user_id=verification.user_id, at=at)
    if card is None:
        verification.decision = verification.reason = "awaiting_card"
        verification.expires_at = at + door.require_face_s
        session.add(verification)
        session.flush()
        return
    # The lock holds the card N seconds from the tap; the pair is never older than that.
    expires = min(card.ts, at) + door.require_face_s
    open_door(
        session=session,
        operator=operator,
        door=door,
        verification=verification,
        at=at,
        expires_at=expires,
        card=card,
    )


def _waiting_verification(*, session: Session, door: Door, tap: Event, now: int) -> Verification | None:
    window = door.require_face_s
    query = (
        select(Verification)
        .where(
            Verification.door_id == door.id,
            Verification.user_id == tap.user_id,
            Verification.decision == "awaiting_card",
            Verification.created_at >= tap.ts - window,
            Verification.created_at <= tap.ts + window,
            Verification.expires_at >= now,
        )
        .order_by(col(Verification.id))
    )
    return session.exec(query).first()


def _terminal(*, session: Session, verification: Verification) -> Operator | None:
    """The integration key that posted the verification, if it is still valid (the audit's actor)."""
    key = session.get(ApiKey, verification.key_id) if verification.key_id is not None else None
    if key is None or key.revoked or key.role != ROLE_INTEGRATION:
        return None
    return Operator(
        key_id=key.id, name=key.name, role=key.role, site_id=key.site_id, scopes=tuple(key.scopes)
    )


def card_taps_arrived(*, session: Session, door: Door, events: list[Event]) -> int:
    """Complete waiting verifications with the face_required taps among these new events. Returns pairs."""
    now = now_ts()
    paired = 0
    for tap in events:
        if tap.type != "granted" or tap.reason != FACE_REQUIRED or tap.user_id is None:
            continue
        verification = _waiting_verification(session=session, door=door, tap=tap, now=now)
        if verification is None:
            continue
        deadline = min(tap.ts, verification.created_at) + door.require_face_s
        terminal = _terminal(session=session, verification=verification)
        if terminal is None or deadline <= now:
            continue
        open_door(
            session=session,
            operator=terminal,
            door=door,
            verification=verification,
            at=now,
            expires_at=deadline,
            card=tap,
        )
        audit_verification(session=session, operator=terminal, door=door, verification=verification)
        paired += 1
    return paired
