"""Credentials: enrol a card or issue a phone token, hash it with the site key, keep it unique per site."""

import binascii
import secrets

from sqlmodel import Session

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.crud.scope import get_in_site, snapshot, taken_in_site
from cloud.errors import Conflict, Invalid
from cloud.models.credential import Credential, CredentialCreate, CredentialPublic, CredentialUpdate
from cloud.models.site import Site
from cloud.models.user import User
from cloud.permissions.service import doors_of_user, recompute_doors
from shared_schema.assurance import assurance
from shared_schema.credentials import KIND_PHONE, CredentialError, credential_hash, normalize

PHONE_TOKEN_BYTES = 16


def credential_public(credential: Credential) -> CredentialPublic:
    # A card's last two bytes help an operator tell cards apart; a phone token is a secret: no hint.
    hint = "" if credential.kind == KIND_PHONE else "…" + credential.identifier[-4:]
    return CredentialPublic.model_validate(credential, update={"identifier_hint": hint})


def prepare_credential(*, site: Site, kind: str, identifier: str | None) -> tuple[str, str, str | None]:
    """(normalized hex identifier, lock hash, phone token to show once) or Invalid."""
    token = None
    if kind == KIND_PHONE:
        if identifier is not None:
            raise Invalid("identifier", "phone tokens are issued by the server: omit identifier")
        token = secrets.token_hex(PHONE_TOKEN_BYTES)
        identifier = token
    elif identifier is None:
        raise Invalid("identifier", f"identifier (hex) is required for a {kind} card")
    try:
        raw = normalize(kind, identifier)[1:]
        cred_hash = credential_hash(bytes.fromhex(site.site_key), kind, raw)
    except CredentialError as error:
        raise Invalid("identifier", f"invalid {kind} identifier: {error}") from None
    return binascii.hexlify(raw).decode(), cred_hash, token


def check_unique(*, session: Session, site_id: int, cred_hash: str) -> None:
    other = taken_in_site(
        session=session, column=Credential.cred_hash, value=cred_hash, site_id=site_id, own_id=None
    )
    if other is not None:
        raise Conflict(f"this credential is already enrolled in the site (credential {other})")


def _owner(*, session: Session, user_id: int, site_id: int) -> User:
    """The user a body names as the credential's owner: one of the site's (422 on user_id otherwise)."""
    return get_in_site(
        session=session, model=User, obj_id=user_id, site_id=site_id, field="user_id", entity="user"
    )


def create_credential(
    *, session: Session, operator: Operator, site: Site, credential_in: CredentialCreate
) -> tuple[Credential, str | None]:
    """The new credential and, for a phone, its token (hex) to show once."""
    assert site.id is not None
    user = _owner(session=session, user_id=credential_in.user_id, site_id=site.id)
    identifier, cred_hash, token = prepare_credential(
        site=site, kind=credential_in.kind, identifier=credential_in.identifier
    )
    check_unique(session=session, site_id=site.id, cred_hash=cred_hash)
    credential = Credential(
        site_id=site.id,
        user_id=credential_in.user_id,
        kind=credential_in.kind,
        identifier=identifier,
        cred_hash=cred_hash,
        assurance=assurance(credential_in.kind),
        label=credential_in.label,
    )
    session.add(credential)
    session.flush()
    assert user.id is not None
    recompute_doors(session=session, door_ids=doors_of_user(session=session, user_id=user.id))
    record_object_change(
        session=session,
        operator=operator,
        action="create",
        entity="credential",
        obj=credential,
        after=snapshot(CredentialPublic, credential_public(credential)),
    )
    return credential, token


def update_credential(
    *, session: Session, operator: Operator, credential: Credential, credential_in: CredentialUpdate
) -> Credential:
    """Relabel, or hand the credential to another user of the site (both users' doors recomputed)."""
    before = snapshot(CredentialPublic, credential_public(credential))
    previous_user = credential.user_id
    if credential_in.user_id is not None:
        _owner(session=session, user_id=credential_in.user_id, site_id=credential.site_id)
        credential.user_id = credential_in.user_id
    if credential_in.label is not None:
        credential.label = credential_in.label
    session.add(credential)
    session.flush()
    if credential.user_id != previous_user:
        affected = doors_of_user(session=session, user_id=previous_user)
        affected |= doors_of_user(session=session, user_id=credential.user_id)
        recompute_doors(session=session, door_ids=affected)
    record_object_change(
        session=session,
        operator=operator,
        action="update",
        entity="credential",
        obj=credential,
        before=before,
        after=snapshot(CredentialPublic, credential_public(credential)),
    )
    return credential


def delete_credential(*, session: Session, operator: Operator, credential: Credential) -> None:
    before = snapshot(CredentialPublic, credential_public(credential))
    session.delete(credential)
    session.flush()
    recompute_doors(session=session, door_ids=doors_of_user(session=session, user_id=credential.user_id))
    record_object_change(
        session=session,
        operator=operator,
        action="delete",
        entity="credential",
        obj=credential,
        before=before,
    )
