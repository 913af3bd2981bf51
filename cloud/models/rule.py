"""Access rules: a user or a group may open a door or a zone's doors, when, until when, in which role."""

from typing import Literal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cloud.models.common import DbId, Label, UnixTime, Windows, now_ts

RuleRole = Literal["admin", "normal"]


# Fields an operator sets on a rule. windows empty = at any time; validity 0 = unbounded.
class AccessRuleBase(SQLModel):
    name: Label = Field(default="", sa_type=sa.String(200))
    role: RuleRole = Field(default="normal", sa_type=sa.String(16))
    windows: Windows = Field(default_factory=list, sa_type=sa.JSON)
    valid_from: UnixTime = Field(default=0, sa_type=sa.BigInteger)
    valid_until: UnixTime = Field(default=0, sa_type=sa.BigInteger)
    enabled: bool = True


# Body of POST /access-rules: exactly one of user_id/group_id and one of door_id/zone_id (checked by
# cloud.crud.rules, so that the 422 names the field).
class AccessRuleCreate(AccessRuleBase):
    site_id: DbId | None = None
    user_id: DbId | None = None
    group_id: DbId | None = None
    door_id: DbId | None = None
    zone_id: DbId | None = None


# Body of PATCH /access-rules/{id} (subject and target are fixed: delete and recreate to move a rule).
class AccessRuleUpdate(SQLModel):
    name: Label | None = None
    role: RuleRole | None = None
    windows: Windows | None = None
    valid_from: UnixTime | None = None
    valid_until: UnixTime | None = None
    enabled: bool | None = None


# The stored rule.
class AccessRule(AccessRuleBase, table=True):
    __tablename__ = "access_rule"
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    group_id: int | None = Field(default=None, foreign_key="user_group.id", index=True)
    door_id: int | None = Field(default=None, foreign_key="door.id", index=True)
    zone_id: int | None = Field(default=None, foreign_key="zone.id", index=True)
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


# A rule as the API shows it.
class AccessRulePublic(AccessRuleBase):
    id: int
    site_id: int
    user_id: int | None
    group_id: int | None
    door_id: int | None
    zone_id: int | None
    created_at: int


# A page of rules.
class AccessRulesPublic(SQLModel):
    data: list[AccessRulePublic]
    count: int
