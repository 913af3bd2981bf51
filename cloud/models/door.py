"""Doors: one lock device each, with its per-device secret, mode and passage schedule."""

from typing import Annotated, Literal

import sqlalchemy as sa
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from cloud.models.common import DbId, Name, UnixTime, Windows, now_ts
from shared_schema.messages import MAX_DEVICE_ID_CHARS

DoorMode = Literal["normal", "passage", "lockdown"]
# Attendance: a granted entry at an "in" door starts a day, one at an "out" door (a reader on the inside) is
# an exit.
DoorDirection = Literal["in", "out"]
# A face verification's confidence must reach the door's threshold (0 < threshold <= 1).
FaceThreshold = Annotated[float, PydanticField(gt=0, le=1)]
# Two factors: a card and a face within this many seconds (0: off).
MAX_REQUIRE_FACE_S = 300
# The device id travels in MQTT topics and MAC'd messages: shared_schema.fields.is_device_id's rule.
DEVICE_ID_PATTERN = rf"^[a-z0-9_-]{{1,{MAX_DEVICE_ID_CHARS}}}$"


# Fields an operator sets on a door.
class DoorBase(SQLModel):
    name: Name = Field(sa_type=sa.String(200))
    # normal; passage = held unlocked during passage_windows; lockdown = only admins may open.
    mode: DoorMode = Field(default="normal", sa_type=sa.String(16))
    passage_windows: Windows = Field(default_factory=list, sa_type=sa.JSON)
    direction: DoorDirection = Field(default="in", sa_type=sa.String(8))
    # Face verifications (POST /integrations/verifications) may open this door only when set.
    face_threshold: FaceThreshold | None = Field(default=None, sa_type=sa.Float)
    # > 0: the door opens only for a card AND a face of the same person within that many seconds.
    require_face_s: int = Field(default=0, ge=0, le=MAX_REQUIRE_FACE_S)


# Body of POST /doors.
class DoorCreate(DoorBase):
    site_id: DbId | None = None
    device_id: str = PydanticField(pattern=DEVICE_ID_PATTERN)


# Body of PATCH /doors/{id}.
class DoorUpdate(SQLModel):
    name: Name | None = None
    mode: DoorMode | None = None
    passage_windows: Windows | None = None
    direction: DoorDirection | None = None
    # null turns face verifications off at this door.
    face_threshold: FaceThreshold | None = None
    require_face_s: int | None = PydanticField(default=None, ge=0, le=MAX_REQUIRE_FACE_S)


# The stored door. Its lock's secrets (device secret generations, broker password hash) are in
# cloud.lockkeys (table door_key), sealed; epoch counts provisionings; a retired door accepts no sync.
class Door(DoorBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    device_id: str = Field(sa_type=sa.String(MAX_DEVICE_ID_CHARS), unique=True)
    epoch: int = Field(default=0, sa_type=sa.BigInteger)
    retired_at: int = Field(default=0, sa_type=sa.BigInteger)
    firmware_version: str = Field(default="", sa_type=sa.String(32))
    applied_permission_version: int = Field(default=0, sa_type=sa.BigInteger)
    last_seen: int = Field(default=0, sa_type=sa.BigInteger)
    online: bool = False
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


# A door as the API shows it (never its secrets). key_generation 0: no key (retired).
class DoorPublic(DoorBase):
    id: int
    site_id: int
    device_id: str
    epoch: int
    key_generation: int
    rekey_state: str
    retired: bool
    firmware_version: str
    permission_version: int
    applied_permission_version: int
    last_seen: UnixTime
    online: bool
    created_at: int


# Everything a lock's config needs, shown once: at POST /doors and at every POST /doors/{id}/provision.
# Keys are those of the lock's config.json (docs/SECURITY.md "Provisioning bundle").
class ProvisioningBundle(SQLModel):
    door_id: int
    device_id: str
    device_secret: str  # 64 hex characters
    key_generation: int
    epoch: int
    site_key: str  # hex
    broker_username: str
    broker_password: str


# The answer to POST /doors: the door and its provisioning bundle (device_secret at the top level too).
class DoorCreated(DoorPublic):
    device_secret: str
    provisioning: ProvisioningBundle


# A page of doors.
class DoorsPublic(SQLModel):
    data: list[DoorPublic]
    count: int
