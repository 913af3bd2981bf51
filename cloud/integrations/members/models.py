"""Body and answer of PUT /integrations/members/{external_id}."""

from typing import Literal

from pydantic import Field as PydanticField
from sqlmodel import SQLModel

from cloud.models.common import Email, Label, Name, UnixTime
from cloud.models.credential import CredentialPublic
from cloud.models.user import UserPublic, UserStatus

MAX_MEMBER_GROUPS = 50
MAX_MEMBER_CARDS = 16


# One card of a member: its identifier (hex IDm / UID), as the other system knows it.
class MemberCard(SQLModel):
    kind: Literal["felica", "iso14443a"]
    identifier: str = PydanticField(min_length=1, max_length=64)
    label: Label = ""


# The whole state of one member. groups (by name) and cards, when given, are the complete sets (the member
# leaves groups and loses cards not listed; phones are left alone); omitted (null) leaves them as they are.
class MemberState(SQLModel):
    name: Name
    email: Email | None = None
    status: UserStatus = "active"
    valid_from: UnixTime = 0
    valid_until: UnixTime = 0
    groups: list[Name] | None = PydanticField(default=None, max_length=MAX_MEMBER_GROUPS)
    cards: list[MemberCard] | None = PydanticField(default=None, max_length=MAX_MEMBER_CARDS)


# The member after the call: created / changed say what the call did (both false: it was already so).
class MemberPublic(SQLModel):
    external_id: str
    created: bool
    changed: bool
    user: UserPublic
    groups: list[str]
    cards: list[CredentialPublic]
