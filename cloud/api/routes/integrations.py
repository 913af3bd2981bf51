"""/integrations: the calls other systems make with an integration key (docs/INTEGRATIONS.md).

Integration keys are bound to one site, carry scopes (members, verifications), are rate limited per key
(429 + Retry-After) and are revoked like any key (DELETE /api-keys/{id}); operators' keys get 403 here, and
integration keys get 403 everywhere else. Every call that changes something or decides an entry is audited
with the key as actor (actor_kind "integration").
"""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import AfterValidator
from sqlmodel import Session

from cloud.api.deps import MembersCaller, SessionDep, VerifierCaller
from cloud.auth.operator import Operator
from cloud.integrations.members.models import MemberPublic, MemberState
from cloud.integrations.members.service import upsert_member
from cloud.integrations.verifications.models import VerificationCreate, VerificationPublic
from cloud.integrations.verifications.service import verify
from cloud.models.common import storable_text
from cloud.models.site import Site

router = APIRouter(prefix="/integrations", tags=["integrations"])

ExternalIdPath = Annotated[str, Path(min_length=1, max_length=64), AfterValidator(storable_text)]


def _site(session: Session, caller: Operator) -> Site:
    site = session.get(Site, caller.site_id)
    assert site is not None  # an integration key is always bound to an existing site
    return site


@router.put(
    "/members/{external_id}",
    response_model=MemberPublic,
    responses={201: {"model": MemberPublic, "description": "The member was created"}},
)
def put_member(
    response: Response,
    session: SessionDep,
    caller: MembersCaller,
    external_id: ExternalIdPath,
    state: MemberState,
) -> MemberPublic:
    """Makes the member with this external id exactly `state` (201 when created). Sending the same state
    again changes nothing: `changed: false`, no audit entry, no permission version step."""
    member = upsert_member(
        session=session, operator=caller, site=_site(session, caller), external_id=external_id, state=state
    )
    session.commit()
    if member.created:
        response.status_code = status.HTTP_201_CREATED
    return member


@router.post("/verifications", response_model=VerificationPublic, status_code=status.HTTP_201_CREATED)
def post_verification(
    request: Request, session: SessionDep, caller: VerifierCaller, verification_in: VerificationCreate
) -> VerificationPublic:
    """A terminal recognised a person at a door. Granted: a one-shot expiring unlock command (the sync
    delivers it) and an entry with method `face`; denied: the reason; at a card-and-face door the
    verification may wait for the card (`awaiting_card`)."""
    settings = request.app.state.settings
    answer = verify(
        session=session,
        operator=caller,
        site=_site(session, caller),
        settings=settings,
        verification_in=verification_in,
    )
    session.commit()
    return answer
