"""A decided verification: the unlock and the entry, or the refusal; its answer and its audit entry."""

from sqlmodel import Session

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.commands.models import Command, CommandPublic
from cloud.commands.service import create_command
from cloud.events.models import Event
from cloud.events.recorded import record_cloud_event
from cloud.integrations.verifications.models import Verification, VerificationPublic
from cloud.models.door import Door

METHOD_FACE = "face"
METHOD_CARD_AND_FACE = "card+face"


def deny(*, session: Session, door: Door, verification: Verification, reason: str, at: int) -> None:
    """Refuse: a denied entry event with the reason, no command."""
    verification.decision, verification.reason = "denied", reason
    session.add(verification)
    session.flush()
    event = record_cloud_event(
        session=session,
        door=door,
        ts=at,
        granted=False,
        user_id=verification.user_id,
        reason=reason,
        method=METHOD_FACE,
        terminal_id=verification.terminal_id,
    )
    verification.event_id = event.id
    session.add(verification)
    session.flush()


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
