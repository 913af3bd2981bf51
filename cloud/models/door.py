"""Doors: one lock device each, with its per-device secret, mode and passage schedule."""

from typing import Literal

import sqlalchemy as sa
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from cloud.models.common import DbId, Name, UnixTime, Windows, now_ts
from shared_schema.messages import MAX_DEVICE_ID_CHARS

DoorMode = Literal["normal", "passage", "lockdown"]
# The device id travels in MQTT topics and MAC'd messages: shared_schema.fields.is_device_id's rule.
DEVICE_ID_PATTERN = rf"^[a-z0-9_-]{{1,{MAX_DEVICE_ID_CHARS}}}$"


# Fields an operator sets on a door.
class DoorBase(SQLModel):
    name: Name = Field(sa_type=sa.String(200))
    # normal; passage = held unlocked during passage_windows; lockdown = only admins may open.
    mode: DoorMode = Field(default="normal", sa_type=sa.String(16))
    passage_windows: Windows = Field(default_factory=list, sa_type=sa.JSON)


# Body of POST /doors.
class DoorCreate(DoorBase):
    site_id: DbId | None = None
    device_id: str = PydanticField(pattern=DEVICE_ID_PATTERN)


# Body of PATCH /doors/{id}.
class DoorUpdate(SQLModel):
    name: Name | None = None
    mode: DoorMode | None = None
    passage_windows: Windows | None = None


# The stored door; device_secret signs every message to and from its lock.
class Door(DoorBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    device_id: str = Field(sa_type=sa.String(MAX_DEVICE_ID_CHARS), unique=True)
    device_secret: str = Field(sa_type=sa.String(64))
    firmware_version: str = Field(default="", sa_type=sa.String(32))
    applied_permission_version: int = Field(default=0, sa_type=sa.BigInteger)
    last_seen: int = Field(default=0, sa_type=sa.BigInteger)
    online: bool = False
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


# A door as the API shows it (never its secret).
class DoorPublic(DoorBase):
    id: int
    site_id: int
    device_id: str
    firmware_version: str
    permission_version: int
    applied_permission_version: int
    last_seen: UnixTime
    online: bool
    created_at: int


# The answer to POST /doors: the only time the device secret is shown.
class DoorCreated(DoorPublic):
    device_secret: str


# A page of doors.
class DoorsPublic(SQLModel):
    data: list[DoorPublic]
    count: int
