"""The audit trail: every change an operator makes, with the state before and after."""

from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Index, SQLModel

from cloud.models.common import now_ts


# One change. before/after are the public views (secrets never appear).
class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_site_id", "site_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)
    site_id: int | None = None
    # "api_key" (actor_key_id set) or "account" (a console account: actor_account_id set).
    actor_kind: str = Field(default="api_key", sa_type=sa.String(16))
    actor_key_id: int | None = None
    actor_account_id: int | None = None
    actor: str = Field(sa_type=sa.String(200))
    action: str = Field(sa_type=sa.String(32))
    entity: str = Field(sa_type=sa.String(32))
    entity_id: str = Field(sa_type=sa.String(64))
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


# An audit entry as the API shows it.
class AuditEntryPublic(SQLModel):
    id: int
    at: int
    site_id: int | None
    actor_kind: str
    actor_key_id: int | None
    actor_account_id: int | None
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


# A page of audit entries, newest first.
class AuditEntriesPublic(SQLModel):
    data: list[AuditEntryPublic]
    count: int
