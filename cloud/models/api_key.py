"""Operators' API keys: stored as a SHA-256 of a high-entropy key, shown once, scoped to a site."""

from typing import Literal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cloud.models.common import DbId, Name, now_ts

# "integration": a key for another system (docs/INTEGRATIONS.md); it calls only /integrations/... within its
# scopes, never the operators' endpoints.
KeyRole = Literal["admin", "operator", "viewer", "integration"]
# members: PUT /integrations/members/{external_id}; verifications: POST /integrations/verifications.
IntegrationScope = Literal["members", "verifications"]
MAX_RATE_LIMIT_PER_MIN = 100_000


# Fields an administrator sets on a key; site_id None = every site (admins only). scopes: only (and always)
# for an integration key, which is bound to a site; rate_limit_per_min: its own limit (None: the default,
# settings.integration_rate_limit_per_min).
class ApiKeyBase(SQLModel):
    name: Name = Field(sa_type=sa.String(200))
    role: KeyRole = Field(sa_type=sa.String(16))
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    scopes: list[IntegrationScope] = Field(default_factory=list, sa_type=sa.JSON)
    rate_limit_per_min: int | None = Field(default=None, ge=1, le=MAX_RATE_LIMIT_PER_MIN)


# Body of POST /api-keys.
class ApiKeyCreate(ApiKeyBase):
    site_id: DbId | None = None


# The stored key: only its hash and a short prefix to recognise it in lists.
class ApiKey(ApiKeyBase, table=True):
    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(sa_type=sa.String(64), unique=True)
    prefix: str = Field(sa_type=sa.String(16))
    revoked: bool = False
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


# A key as the API shows it.
class ApiKeyPublic(ApiKeyBase):
    id: int
    prefix: str
    revoked: bool
    created_at: int


# The answer to POST /api-keys: the only time the key is shown.
class ApiKeyIssued(ApiKeyPublic):
    key: str


# A page of keys.
class ApiKeysPublic(SQLModel):
    data: list[ApiKeyPublic]
    count: int
