"""Credentials: enrol a card or issue a phone token, hash it with the site key, keep it unique per site.

Only the hash (cred_id), a masked tail of a card's identifier and its assurance are stored: never the
identifier, never a phone's token (shown once, in the creation answer).
"""

import secrets
from dataclasses import dataclass, field

from sqlmodel import Session

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.crud.scope import get_in_site, snapshot, taken_in_site
from cloud.crud.sites import site_key
from cloud.errors import Conflict, Invalid
from cloud.models.credential import (
    KIND_MOBILE,
    Credential,
    CredentialCreate,
    CredentialPublic,
    CredentialUpdate,
)
from cloud.models.site import Site
from cloud.models.user import User
from cloud.permissions.service import doors_of_user, recompute_doors
from shared_schema.assurance import assurance, not_unique
from shared_schema.credentials import KIND_PHONE, CredentialError, credential_hash_bytes, normalize

PHONE_TOKEN_BYTES = 16
HINT_BYTES = 2


def identifier_hint(kind: str, normalized: bytes) -> str:
    """"felica:****CDEF": a card's last two bytes tell cards apart; a phone's token is secret: no hint."""
    if kind == KIND_PHONE:
        return ""
    return f"{kind}:****{normalized[-HINT_BYTES:].hex().upper()}"


@dataclass(frozen=True)
class PreparedCredential:
    """What is stored of a credential, and a phone's token to show once."""

    cred_hash: str
    identifier_hint: str
    assurance: str
    not_unique: bool
    token: str | None = field(default=None, repr=False)

    def stored(self, *, site_id: int, user_id: int, kind: str, label: str) -> Credential:
        return Credential(
            site_id=site_id,
            user_id=user_id,
            kind=kind,
            cred_hash=self.cred_hash,
            identifier_hint=self.identifier_hint,
            assurance=self.assurance,
            not_unique=self.not_unique,
            label=label,
        )


def credential_public(credential: Credential) -> CredentialPublic:
    return CredentialPublic.model_validate(credential)


def prepare_credential(*, site: Site, kind: str, identifier: str | None) -> PreparedCredential:
    """The stored form of a card or a new phone token, or Invalid (on the identifier field)."""
    token = None
    if kind == KIND_PHONE:
        if identifier is not None:
            raise Invalid("identifier", "phone tokens are issued by the server: omit identifier")
        token = secrets.token_hex(PHONE_TOKEN_BYTES)
        identifier = token
    elif identifier is None:
        raise Invalid("identifier", f"identifier (hex) is required for a {kind} card")
    try:
        normalized = normalize(kind, identifier)
    except CredentialError as error:
        raise Invalid("identifier", f"invalid {kind} identifier: {error}") from None
    return PreparedCredential(
        cred_hash=credential_hash_bytes(site_key(site), normalized).hex(),
        identifier_hint=identifier_hint(kind, normalized),
        assurance=assurance(kind, normalized),
        not_unique=not_unique(normalized),
        token=token,
    )


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
    prepared = prepare_credential(site=site, kind=credential_in.kind, identifier=credential_in.identifier)
    check_unique(session=session, site_id=site.id, cred_hash=prepared.cred_hash)
    credential = prepared.stored(
        site_id=site.id, user_id=credential_in.user_id, kind=credential_in.kind, label=credential_in.label
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
    return credential, prepared.token


def add_issued_credential(
    *, session: Session, operator: Operator, user: User, kind: str, cred_hash: str, assurance: str, label: str
) -> Credential:
    """A credential whose id the server made (a mobile key's key id): stored, the user's doors recomputed."""
    assert user.id is not None
    check_unique(session=session, site_id=user.site_id, cred_hash=cred_hash)
    credential = Credential(
        site_id=user.site_id, user_id=user.id, kind=kind, cred_hash=cred_hash, assurance=assurance
    )
    credential.label = label
    session.add(credential)
    session.flush()
    recompute_doors(session=session, door_ids=doors_of_user(session=session, user_id=user.id))
    record_object_change(
        session=session,
        operator=operator,
        action="create",
        entity="credential",
        obj=credential,
        after=snapshot(CredentialPublic, credential_public(credential)),
    )
    return credential


def update_credential(
    *, session: Session, operator: Operator, credential: Credential, credential_in: CredentialUpdate
) -> Credential:
    """Relabel, or hand the credential to another user of the site (both users' doors recomputed)."""
    if credential_in.user_id not in (None, credential.user_id) and credential.kind == KIND_MOBILE:
        raise Invalid("user_id", "a mobile key stays with its user: revoke it and issue another")
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
