"""Zones: named sets of doors (a floor, the room where personal data is handled)."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cloud.models.common import DbId, Name


# Fields an operator sets on a zone.
class ZoneBase(SQLModel):
    name: Name = Field(sa_type=sa.String(200))


# Body of POST /zones (door_ids: the initial members).
class ZoneCreate(ZoneBase):
    site_id: DbId | None = None
    door_ids: list[DbId] = []


# Body of PATCH /zones/{id}; door_ids, when given, replaces the membership.
class ZoneUpdate(SQLModel):
    name: Name | None = None
    door_ids: list[DbId] | None = None


# The stored zone.
class Zone(ZoneBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)


# Membership of a door in a zone.
class ZoneDoor(SQLModel, table=True):
    __tablename__ = "zone_door"
    zone_id: int = Field(foreign_key="zone.id", primary_key=True)
    door_id: int = Field(foreign_key="door.id", primary_key=True, index=True)


# A zone as the API shows it, with its doors.
class ZonePublic(ZoneBase):
    id: int
    site_id: int
    door_ids: list[int]


# A page of zones.
class ZonesPublic(SQLModel):
    data: list[ZonePublic]
    count: int
