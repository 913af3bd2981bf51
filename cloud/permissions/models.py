"""The effective permission list of each door, as last computed, with its version and digest."""

from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cloud.models.common import now_ts


# One row per door: the wire-format entries, their digest, and a version that moves only when they change.
class DoorPermissions(SQLModel, table=True):
    __tablename__ = "door_permissions"
    door_id: int = Field(foreign_key="door.id", primary_key=True)
    version: int = Field(sa_type=sa.BigInteger)
    digest: str = Field(sa_type=sa.String(64))
    entries: list[Any] = Field(default_factory=list, sa_type=sa.JSON)
    # Grants dropped because a credential's merged windows exceeded MAX_WINDOWS (fail closed).
    truncated: int = 0
    updated_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


# GET /doors/{id}/effective-permissions.
class EffectivePermissionsPublic(SQLModel):
    door_id: int
    version: int
    digest: str
    count: int
    truncated: int
    updated_at: int
    # [cred_hash, role, valid_from, valid_until, windows], sorted by hash (shared_schema.messages).
    entries: list[list[Any]]


# A rule that grants a user entry at the asked instant.
class GrantingRule(SQLModel):
    rule_id: int
    name: str
    role: str
    via_group_id: int | None


# One user who can open the door at the asked instant.
class EntrantPublic(SQLModel):
    user_id: int
    name: str
    credential_ids: list[int]
    rules: list[GrantingRule]


# GET /doors/{id}/who-can-enter.
class WhoCanEnterPublic(SQLModel):
    door_id: int
    at: int
    mode: str
    # True when the door is held unlocked by its passage schedule at that instant: anyone can walk in.
    passage_open: bool
    users: list[EntrantPublic]
    count: int
