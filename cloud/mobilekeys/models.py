"""A mobile key: a credential of kind `mobile` (assurance `challenge`) and what it was issued for.

The key's secret is never stored: it is shown once, in the key file of the creation answer. What stays is
the key id (= the credential's cred_hash, what the locks' tables hold), the validity and windows its tickets
carry, and the locks it has tickets for (with the key generation each ticket was MAC'd under).
"""

from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, UniqueConstraint

from cloud.models.common import DbId, Label, UnixTime, Windows, now_ts


# Body of POST /users/{user_id}/mobile-keys: exactly one of door_id / zone_id. Validity 0 = the default (from
# now, for settings.mobile_key_default_days); the key never reaches beyond what the user's rules grant.
class MobileKeyCreate(SQLModel):
    door_id: DbId | None = None
    zone_id: DbId | None = None
    valid_from: UnixTime = 0
    valid_until: UnixTime = 0
    label: Label = ""


# One lock a key has a ticket for.
class MobileKeyDoor(SQLModel):
    door_id: int
    device_id: str
    key_generation: int


# The stored key. credential_id is cleared when the key is revoked (its credential deleted); the row stays as
# the record of what was issued, so that events of a revoked key still show it was a phone.
class MobileKey(SQLModel, table=True):
    __tablename__ = "mobile_key"
    __table_args__ = (UniqueConstraint("site_id", "key_id"),)
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    credential_id: int | None = Field(
        default=None, foreign_key="credential.id", unique=True, ondelete="SET NULL"
    )
    key_id: str = Field(sa_type=sa.String(32))
    label: str = Field(default="", sa_type=sa.String(200))
    door_id: int | None = None
    zone_id: int | None = None
    valid_from: int = Field(sa_type=sa.BigInteger)
    valid_until: int = Field(sa_type=sa.BigInteger)
    windows: list[list[int]] = Field(default_factory=list, sa_type=sa.JSON)
    doors: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)
    revoked_at: int = Field(default=0, sa_type=sa.BigInteger)


# A key as the API shows it: never its secret. reissue_needed: a door's lock has a newer device secret than
# the one a ticket was made with (a rotation, a new provisioning): that door refuses it (key_outdated).
class MobileKeyPublic(SQLModel):
    id: int
    site_id: int
    user_id: int
    credential_id: int | None
    key_id: str
    label: str
    door_id: int | None
    zone_id: int | None
    valid_from: UnixTime
    valid_until: UnixTime
    windows: Windows
    doors: list[MobileKeyDoor]
    created_at: int
    revoked: bool
    revoked_at: int
    reissue_needed: bool


# The answer to POST: the key and, this once, its key file (the secret included) for the phone.
class MobileKeyIssued(MobileKeyPublic):
    key_file: dict[str, Any]


# A page of keys.
class MobileKeysPublic(SQLModel):
    data: list[MobileKeyPublic]
    count: int
