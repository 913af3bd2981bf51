"""Credentials: FeliCa cards, ISO14443A cards and phone tokens; the lock only ever sees their hash."""

from typing import Literal

import sqlalchemy as sa
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel, UniqueConstraint

from cloud.models.common import DbId, Label, now_ts

# What POST /credentials enrols; a `mobile` credential is made only by POST /users/{id}/mobile-keys.
CredentialKind = Literal["felica", "iso14443a", "phone"]
KIND_MOBILE = "mobile"
StoredCredentialKind = Literal["felica", "iso14443a", "phone", "mobile"]


# Fields an operator sets on a credential.
class CredentialBase(SQLModel):
    label: Label = Field(default="", sa_type=sa.String(200))


# Body of POST /credentials. identifier: hex IDm/UID for cards; omitted for phones (the server issues
# the token).
class CredentialCreate(CredentialBase):
    user_id: DbId
    kind: CredentialKind
    identifier: str | None = PydanticField(default=None, max_length=64)


# Body of PATCH /credentials/{id}.
class CredentialUpdate(SQLModel):
    label: Label | None = None
    user_id: DbId | None = None


# The stored credential: no identifier or token, only cred_hash = credential_hash(site_key, ...), the id the
# locks compute (unique per site, so the same card cannot be enrolled twice under any spelling), and a
# masked tail for display ("felica:****CDEF"; none for phones).
class Credential(CredentialBase, table=True):
    __table_args__ = (UniqueConstraint("site_id", "cred_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    kind: str = Field(sa_type=sa.String(16))
    identifier_hint: str = Field(default="", sa_type=sa.String(32))
    cred_hash: str = Field(sa_type=sa.String(32))
    # shared_schema.credentials.assurance(kind, normalized); not_unique: many cards or phones may present it.
    assurance: str = Field(sa_type=sa.String(16))
    not_unique: bool = False
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


# A credential as the API shows it: kind, hash and a short hint, never the identifier or token.
class CredentialPublic(CredentialBase):
    id: int
    site_id: int
    user_id: int
    kind: StoredCredentialKind
    assurance: str
    not_unique: bool
    cred_hash: str
    identifier_hint: str
    created_at: int


# The answer to POST /credentials: for a phone, the only time its token is shown.
class CredentialIssued(CredentialPublic):
    token: str | None = None


# A page of credentials.
class CredentialsPublic(SQLModel):
    data: list[CredentialPublic]
    count: int
