"""POST /integrations/verifications: a terminal says it recognised a person at a door; the cloud decides.

The decision, at the moment the call arrives:
1. the door must not be retired (door_retired) and must accept faces (face_threshold set: face_disabled);
2. the confidence must reach the door's threshold (below_threshold);
3. the person's rules must let them through that door at that moment, exactly as who-can-enter judges a
   rule (active, within their own validity, rule validity and weekly windows in site-local time, lockdown:
   admin rules only) (not_allowed);
4. at a card-and-face door (require_face_s > 0) the person's card tap waiting for its face must be at most
   require_face_s old (card_and_face); without one the verification waits for the card (awaiting_card,
   until expires_at) and cloud.integrations.verifications.second_factor completes it when the tap arrives;
5. otherwise: granted (face).
Granted: a one-shot unlock command expiring after settings.face_unlock_ttl_s (at a card-and-face door: when
the lock stops holding the card) and an entry event (method face / card+face, the terminal's id). Denied: a
denied event with the reason. Every verification is a row, an audit entry (action verify on the door) and,
through its event, an entry webhook.
"""

from sqlmodel import Session, select

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.commands.models import Command, CommandPublic
from cloud.commands.service import create_command
from cloud.crud.scope import get_in_site
from cloud.errors import Invalid
from cloud.events.models import Event
from cloud.events.recorded import record_cloud_event
from cloud.integrations.verifications.models import Verification, VerificationCreate, VerificationPublic
from cloud.models.common import now_ts
from cloud.models.door import Door
from cloud.models.site import Site
from cloud.models.user import User
from cloud.permissions.who import rules_letting_in
from cloud.settings import Settings

METHOD_FACE = "face"
METHOD_CARD_AND_FACE = "card+face"


def _person(*, session: Session, site_id: int, verification_in: VerificationCreate) -> User:
    """The person named by exactly one of user_id / external_id, in the site (422 on the field otherwise)."""
    if (verification_in.user_id is None) == (verification_in.external_id is None):
        raise Invalid("user_id", "give exactly one of user_id and external_id")
    if verification_in.user_id is not None:
        return get_in_site(
            session=session,
            model=User,
            obj_id=verification_in.user_id,
            site_id=site_id,
            field="user_id",
            entity="user",
        )
    user = session.exec(
        select(User).where(User.site_id == site_id, User.external_id == verification_in.external_id)
    ).first()
    if user is None:
        raise Invalid("external_id", f"no person with this external_id in site {site_id}")
    return user


def _refusal(
    *, session: Session, door: Door, site: Site, user: User, confidence: float, at: int
) -> str | None:
    if door.retired_at:
        return "door_retired"
    if door.face_threshold is None:
        return "face_disabled"
    if confidence < door.face_threshold:
        return "below_threshold"
    if not rules_letting_in(session=session, door=door, site=site, user=user, at=at):
        return "not_allowed"
    return None


def open_door(
    *,
    session: Session,
    operator: Operator,
    door: Door,
    verification: Verification,
    at: int,
    expires_at: int,
    card: Event | None = None,
) -> None:
    """Grant: the one-shot unlock and the entry event (face, or card+face with the card's credential)."""
    command = create_command(
        session=session, operator=operator, door=door, action="unlock", expires_at=expires_at
    )
    event = record_cloud_event(
        session=session,
        door=door,
        ts=at,
        granted=True,
        user_id=verification.user_id,
        reason="card_and_face" if card else "face",
        method=METHOD_CARD_AND_FACE if card else METHOD_FACE,
        terminal_id=verification.terminal_id,
        credential_id=card.credential_id if card else None,
        cred_hash=card.cred_hash if card else "",
    )
    verification.decision, verification.reason = "granted", "card_and_face" if card else "face"
    verification.command_id, verification.event_id = command.id, event.id
    verification.card_event_id = card.id if card else None
    session.add(verification)
    session.flush()


def verification_public(*, session: Session, verification: Verification) -> VerificationPublic:
    command = session.get(Command, verification.command_id) if verification.command_id else None
    return VerificationPublic.model_validate(
        verification, update={"command": CommandPublic.model_validate(command) if command else None}
    )


def audit_verification(
    *, session: Session, operator: Operator, door: Door, verification: Verification
) -> None:
    view = verification_public(session=session, verification=verification).model_dump(mode="json")
    record_object_change(
        session=session, operator=operator, action="verify", entity="door", obj=door, after=view
    )


def verify(
    *,
    session: Session,
    operator: Operator,
    site: Site,
    settings: Settings,
    verification_in: VerificationCreate,
) -> VerificationPublic:
    """Decide one verification (flushes, never commits)."""
    from cloud.integrations.verifications.second_factor import waiting_card_tap

    assert site.id is not None
    door = get_in_site(
        session=session,
        model=Door,
        obj_id=verification_in.door_id,
        site_id=site.id,
        field="door_id",
        entity="door",
    )
    user = _person(session=session, site_id=site.id, verification_in=verification_in)
    assert user.id is not None
    at = now_ts()
    verification = Verification(
        site_id=site.id,
        door_id=verification_in.door_id,
        user_id=user.id,
        terminal_id=verification_in.terminal_id,
        key_id=operator.key_id,
        confidence=verification_in.confidence,
        threshold=door.face_threshold,
        decision="denied",
        reason="not_allowed",
        created_at=at,
    )
    refusal = _refusal(
        session=session, door=door, site=site, user=user, confidence=verification.confidence, at=at
    )
    if refusal is not None:
        verification.reason = refusal
        session.add(verification)
        session.flush()
        event = record_cloud_event(
            session=session,
            door=door,
            ts=at,
            granted=False,
            user_id=user.id,
            reason=refusal,
            method=METHOD_FACE,
            terminal_id=verification.terminal_id,
        )
        verification.event_id = event.id
    elif door.require_face_s:
        card = waiting_card_tap(session=session, door=door, user_id=user.id, at=at)
        session.add(verification)
        session.flush()
        if card is None:
            verification.decision = verification.reason = "awaiting_card"
            verification.expires_at = at + door.require_face_s
        else:
            # The lock holds the card N seconds from the tap; the pair must also not be older than that.
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
    else:
        session.add(verification)
        session.flush()
        expires = at + settings.face_unlock_ttl_s
        open_door(
            session=session,
            operator=operator,
            door=door,
            verification=verification,
            at=at,
            expires_at=expires,
        )
    session.add(verification)
    session.flush()
    audit_verification(session=session, operator=operator, door=door, verification=verification)
    return verification_public(session=session, verification=verification)
