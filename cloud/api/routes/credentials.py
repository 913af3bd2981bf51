"""/credentials: enrol cards, issue phone tokens (shown once), list, relabel, reassign, revoke."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from cloud.api.deps import CurrentOperator, ObjectId, PageDep, SessionDep, SiteFilter, WriterOperator
from cloud.api.listing import list_visible
from cloud.crud import credentials as service
from cloud.crud.scope import get_visible
from cloud.errors import Invalid
from cloud.models.credential import (
    Credential,
    CredentialCreate,
    CredentialIssued,
    CredentialPublic,
    CredentialsPublic,
    CredentialUpdate,
)
from cloud.models.site import Site
from cloud.models.user import User

router = APIRouter(prefix="/credentials", tags=["credentials"])


@router.get("", response_model=CredentialsPublic)
def list_credentials(
    session: SessionDep,
    operator: CurrentOperator,
    paging: PageDep,
    site_id: SiteFilter = None,
    user_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> CredentialsPublic:
    filters = () if user_id is None else (Credential.user_id == user_id,)
    rows, count = list_visible(
        session=session, model=Credential, operator=operator, paging=paging, site_id=site_id, filters=filters
    )
    return CredentialsPublic(data=[service.credential_public(row) for row in rows], count=count)


@router.post("", response_model=CredentialIssued, status_code=status.HTTP_201_CREATED)
def create_credential(
    session: SessionDep, operator: WriterOperator, credential_in: CredentialCreate
) -> CredentialIssued:
    """Enrols a card (hex IDm/UID) or issues a phone token; a phone's token is in this response only.

    409 if the same credential is already enrolled in the site.
    """
    user = session.get(User, credential_in.user_id)
    if user is None or not operator.sees(user.site_id):
        raise Invalid("user_id", f"no user {credential_in.user_id}")
    site = session.get(Site, user.site_id)
    assert site is not None
    credential, token = service.create_credential(
        session=session, operator=operator, site=site, credential_in=credential_in
    )
    session.commit()
    return CredentialIssued.model_validate(service.credential_public(credential), update={"token": token})


@router.get("/{credential_id}", response_model=CredentialPublic)
def read_credential(
    session: SessionDep, operator: CurrentOperator, credential_id: ObjectId
) -> CredentialPublic:
    credential = get_visible(
        session=session, model=Credential, obj_id=credential_id, operator=operator, entity="credential"
    )
    return service.credential_public(credential)


@router.patch("/{credential_id}", response_model=CredentialPublic)
def update_credential(
    session: SessionDep, operator: WriterOperator, credential_id: ObjectId, credential_in: CredentialUpdate
) -> CredentialPublic:
    credential = get_visible(
        session=session, model=Credential, obj_id=credential_id, operator=operator, entity="credential"
    )
    service.update_credential(
        session=session, operator=operator, credential=credential, credential_in=credential_in
    )
    session.commit()
    return service.credential_public(credential)


@router.delete("/{credential_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_credential(session: SessionDep, operator: WriterOperator, credential_id: ObjectId) -> None:
    credential = get_visible(
        session=session, model=Credential, obj_id=credential_id, operator=operator, entity="credential"
    )
    service.delete_credential(session=session, operator=operator, credential=credential)
    session.commit()
