"""Sites: a building or tenant with its own IANA timezone and its own credential-hashing key."""

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from pydantic import AfterValidator
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from cloud.models.common import Name, now_ts
from cloud.vault.sealing import SEALED_MAX_CHARS
from shared_schema.schedule import MINUTES_PER_DAY


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA timezone {name!r} (e.g. 'Asia/Tokyo', 'Europe/Paris')") from None
    return name


TimezoneName = Annotated[str, AfterValidator(_check_timezone)]


# Fields an operator sets on a site.
class SiteBase(SQLModel):
    name: Name = Field(sa_type=sa.String(200))
    timezone: TimezoneName = Field(default="UTC", sa_type=sa.String(64))
    # Attendance days start at this local minute (300 = 05:00), so a night shift stays one working day.
    day_boundary_minute: int = Field(default=0, ge=0, le=MINUTES_PER_DAY - 1)


# Body of POST /sites.
class SiteCreate(SiteBase):
    pass


# Body of PATCH /sites/{id}: every field optional.
class SiteUpdate(SQLModel):
    name: Name | None = None
    timezone: TimezoneName | None = None
    day_boundary_minute: int | None = PydanticField(default=None, ge=0, le=MINUTES_PER_DAY - 1)


# The stored site. Its key (which the locks' credential ids are keyed with) is stored sealed under the
# master key (cloud.vault), bound to this row: cloud.crud.sites.site_key() opens it.
class Site(SiteBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    site_key_sealed: str = Field(default="", sa_type=sa.String(SEALED_MAX_CHARS))
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


# A site as the API shows it (never its key).
class SitePublic(SiteBase):
    id: int
    created_at: int


# The answer to POST /sites: the only time the site key is shown.
class SiteCreated(SitePublic):
    site_key: str


# A page of sites.
class SitesPublic(SQLModel):
    data: list[SitePublic]
    count: int
