"""/zones: CRUD, door membership, and presence (who entered the zone in an interval)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlmodel import Session

from cloud.api.deps import (
    CurrentOperator,
    Instant,
    ObjectId,
    PageDep,
    SessionDep,
    SiteFilter,
    WriterOperator,
    to_unix,
)
from cloud.api.listing import list_visible
from cloud.auth.operator import Operator
from cloud.crud import zones as service
from cloud.crud.scope import get_visible
from cloud.errors import Invalid
from cloud.events.models import PresencePublic
from cloud.events.service import zone_presence
from cloud.models.common import now_ts
from cloud.models.zone import Zone, ZoneCreate, ZonePublic, ZonesPublic, ZoneUpdate

router = APIRouter(prefix="/zones", tags=["zones"])


def _get(session: Session, operator: Operator, zone_id: int) -> Zone:
    return get_visible(session=session, model=Zone, obj_id=zone_id, operator=operator, entity="zone")


@router.get("", response_model=ZonesPublic)
def list_zones(
    session: SessionDep, operator: CurrentOperator, paging: PageDep, site_id: SiteFilter = None
) -> ZonesPublic:
    rows, count = list_visible(session=session, model=Zone, operator=operator, paging=paging, site_id=site_id)
    return ZonesPublic(data=[service.zone_public(session=session, zone=row) for row in rows], count=count)


@router.post("", response_model=ZonePublic, status_code=status.HTTP_201_CREATED)
def create_zone(session: SessionDep, operator: WriterOperator, zone_in: ZoneCreate) -> ZonePublic:
    zone = service.create_zone(session=session, operator=operator, zone_in=zone_in)
    session.commit()
    return service.zone_public(session=session, zone=zone)


@router.get("/{zone_id}", response_model=ZonePublic)
def read_zone(session: SessionDep, operator: CurrentOperator, zone_id: ObjectId) -> ZonePublic:
    return service.zone_public(session=session, zone=_get(session, operator, zone_id))


@router.patch("/{zone_id}", response_model=ZonePublic)
def update_zone(
    session: SessionDep, operator: WriterOperator, zone_id: ObjectId, zone_in: ZoneUpdate
) -> ZonePublic:
    zone = service.update_zone(
        session=session, operator=operator, zone=_get(session, operator, zone_id), zone_in=zone_in
    )
    session.commit()
    return service.zone_public(session=session, zone=zone)


@router.delete("/{zone_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_zone(session: SessionDep, operator: WriterOperator, zone_id: ObjectId) -> None:
    service.delete_zone(session=session, operator=operator, zone=_get(session, operator, zone_id))
    session.commit()


def _set_door(session: Session, operator: Operator, zone_id: int, door_id: int, member: bool) -> ZonePublic:
    zone = _get(session, operator, zone_id)
    service.set_zone_door(session=session, operator=operator, zone=zone, door_id=door_id, member=member)
    session.commit()
    return service.zone_public(session=session, zone=zone)


@router.put("/{zone_id}/doors/{door_id}", response_model=ZonePublic)
def add_door(
    session: SessionDep, operator: WriterOperator, zone_id: ObjectId, door_id: ObjectId
) -> ZonePublic:
    """Adds a door of the zone's site (idempotent); 404 for a door this key cannot see."""
    return _set_door(session, operator, zone_id, door_id, member=True)


@router.delete("/{zone_id}/doors/{door_id}", response_model=ZonePublic)
def remove_door(
    session: SessionDep, operator: WriterOperator, zone_id: ObjectId, door_id: ObjectId
) -> ZonePublic:
    """Removes a door from the zone (idempotent); 404 for a door this key cannot see."""
    return _set_door(session, operator, zone_id, door_id, member=False)


@router.get("/{zone_id}/presence", response_model=PresencePublic)
def presence(
    request: Request,
    session: SessionDep,
    operator: CurrentOperator,
    zone_id: ObjectId,
    since: Annotated[Instant, Query()],
    until: Annotated[Instant | None, Query()] = None,
) -> PresencePublic:
    """Who entered the zone (granted at one of its doors) in [since, until), with every entry, by user."""
    zone = _get(session, operator, zone_id)
    start, end = to_unix(since, "since"), to_unix(until, "until")
    assert start is not None
    end = now_ts() if end is None else end
    if end <= start:
        raise Invalid("until", "until must be after since", location="query")
    return zone_presence(
        session=session,
        zone=zone,
        since=start,
        until=end,
        limit=request.app.state.settings.max_presence_entries,
    )
