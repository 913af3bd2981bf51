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

from cloud.auth.operator import Operator
from cloud.crud.scope import get_in_site
from cloud.errors import Invalid
from cloud.integrations.verifications.decisions import (
    audit_verification,
    deny,
    open_door,
    verification_public,
)
from cloud.integrations.verifications.models import Verification, VerificationCreate, VerificationPublic
from cloud.integrations.verifications.second_factor import face_arrived
from cloud.models.common import now_ts
from cloud.models.door import Door
from cloud.models.site import Site
from cloud.models.user import User
from cloud.permissions.who import rules_letting_in
from cloud.settings import Settings


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


def verify(
    *,
    session: Session,
    operator: Operator,
    site: Site,
    settings: Settings,
    verification_in: VerificationCreate,
) -> VerificationPublic:
    """Decide one verification (flushes, never commits)."""
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
    session.add(verification)
    session.flush()
    refusal = _refusal(
        session=session, door=door, site=site, user=user, confidence=verification.confidence, at=at
    )
    if refusal is not None:
        deny(session=session, door=door, verification=verification, reason=refusal, at=at)
    elif door.require_face_s:
        face_arrived(session=session, operator=operator, door=door, verification=verification, at=at)
    else:
        expires = at + settings.face_unlock_ttl_s
        open_door(
            session=session,
            operator=operator,
            door=door,
            verification=verification,
            at=at,
            expires_at=expires,
        )
    audit_verification(session=session, operator=operator, door=door, verification=verification)
    return verification_public(session=session, verification=verification)
