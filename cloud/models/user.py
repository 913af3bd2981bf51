"""People who open doors, and groups of them."""

from typing import Literal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, UniqueConstraint

from cloud.models.common import DbId, Description, Email, ExternalId, Name, UnixTime, now_ts

UserStatus = Literal["active", "suspended"]


# Fields an operator sets on a user; external_id is the HR/employee number used by the CSV import.
class UserBase(SQLModel):
    name: Name = Field(sa_type=sa.String(200))
    email: Email | None = Field(default=None, sa_type=sa.String(254))
    external_id: ExternalId | None = Field(default=None, sa_type=sa.String(64))
    # A suspended user keeps credentials and rules but opens nothing.
    status: UserStatus = Field(default="active", sa_type=sa.String(16))
    # The person's own validity (a membership's term), 0 = unbounded: every grant is cut to it.
    valid_from: UnixTime = Field(default=0, sa_type=sa.BigInteger)
    valid_until: UnixTime = Field(default=0, sa_type=sa.BigInteger)


# Body of POST /users.
class UserCreate(UserBase):
    site_id: DbId | None = None


# Body of PATCH /users/{id}.
class UserUpdate(SQLModel):
    name: Name | None = None
    email: Email | None = None
    external_id: ExternalId | None = None
    status: UserStatus | None = None
    valid_from: UnixTime | None = None
    valid_until: UnixTime | None = None


# The stored user.
class User(UserBase, table=True):
    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL
    __table_args__ = (UniqueConstraint("site_id", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


# A user as the API shows it.
class UserPublic(UserBase):
    id: int
    site_id: int
    created_at: int


# A page of users.
class UsersPublic(SQLModel):
    data: list[UserPublic]
    count: int


# Fields an operator sets on a group.
class GroupBase(SQLModel):
    name: Name = Field(sa_type=sa.String(200))
    description: Description = Field(default="", sa_type=sa.String(1000))


# Body of POST /groups (user_ids: the initial members).
class GroupCreate(GroupBase):
    site_id: DbId | None = None
    user_ids: list[DbId] = []


# Body of PATCH /groups/{id}.
class GroupUpdate(SQLModel):
    name: Name | None = None
    description: Description | None = None


# The stored group.
class Group(GroupBase, table=True):
    __tablename__ = "user_group"  # "group" is an SQL keyword
    __table_args__ = (UniqueConstraint("site_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)


# Membership of a user in a group.
class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"
    group_id: int = Field(foreign_key="user_group.id", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", primary_key=True, index=True)


# A group as the API shows it.
class GroupPublic(GroupBase):
    id: int
    site_id: int
    member_count: int


# A page of groups.
class GroupsPublic(SQLModel):
    data: list[GroupPublic]
    count: int
