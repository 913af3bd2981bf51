"""Zones and their door membership. Moving a door in or out recomputes that door only."""

from sqlmodel import Session, col, select

from cloud.audit.service import record_change
from cloud.auth.operator import Operator
from cloud.crud.scope import get_in_site, snapshot, target_site
from cloud.models.door import Door
from cloud.models.rule import AccessRule
from cloud.models.zone import Zone, ZoneCreate, ZoneDoor, ZonePublic, ZoneUpdate
from cloud.permissions.service import doors_of_zone, recompute_doors


def zone_public(*, session: Session, zone: Zone) -> ZonePublic:
    assert zone.id is not None
    door_ids = sorted(doors_of_zone(session=session, zone_id=zone.id))
    return ZonePublic.model_validate(zone, update={"door_ids": door_ids})


def _check_doors(*, session: Session, site_id: int, door_ids: list[int]) -> set[int]:
    for index, door_id in enumerate(door_ids):
        get_in_site(
            session=session,
            model=Door,
            obj_id=door_id,
            site_id=site_id,
            field=f"door_ids.{index}",
            entity="door",
        )
    return set(door_ids)


def _set_doors(*, session: Session, zone: Zone, door_ids: set[int]) -> None:
    """Replace the zone's doors; recompute exactly the doors that joined or left."""
    assert zone.id is not None
    current = doors_of_zone(session=session, zone_id=zone.id)
    for door_id in current - door_ids:
        member = session.get(ZoneDoor, (zone.id, door_id))
        session.delete(member)
    for door_id in door_ids - current:
        session.add(ZoneDoor(zone_id=zone.id, door_id=door_id))
    session.flush()
    recompute_doors(session=session, door_ids=current ^ door_ids)


def create_zone(*, session: Session, operator: Operator, zone_in: ZoneCreate) -> Zone:
    site = target_site(session=session, operator=operator, requested=zone_in.site_id)
    assert site.id is not None
    door_ids = _check_doors(session=session, site_id=site.id, door_ids=zone_in.door_ids)
    zone = Zone(name=zone_in.name, site_id=site.id)
    session.add(zone)
    session.flush()
    _set_doors(session=session, zone=zone, door_ids=door_ids)
    record_change(
        session=session,
        operator=operator,
        action="create",
        entity="zone",
        entity_id=zone.id,
        site_id=zone.site_id,
        after=snapshot(ZonePublic, zone_public(session=session, zone=zone)),
    )
    return zone


def update_zone(*, session: Session, operator: Operator, zone: Zone, zone_in: ZoneUpdate) -> Zone:
    before = snapshot(ZonePublic, zone_public(session=session, zone=zone))
    if zone_in.name is not None:
        zone.name = zone_in.name
        session.add(zone)
    if zone_in.door_ids is not None:
        door_ids = _check_doors(session=session, site_id=zone.site_id, door_ids=zone_in.door_ids)
        _set_doors(session=session, zone=zone, door_ids=door_ids)
    session.flush()
    record_change(
        session=session,
        operator=operator,
        action="update",
        entity="zone",
        entity_id=zone.id,
        site_id=zone.site_id,
        before=before,
        after=snapshot(ZonePublic, zone_public(session=session, zone=zone)),
    )
    return zone


def add_zone_door(*, session: Session, operator: Operator, zone: Zone, door_id: int) -> Zone:
    assert zone.id is not None
    current = doors_of_zone(session=session, zone_id=zone.id)
    door_ids = _check_doors(session=session, site_id=zone.site_id, door_ids=[door_id])
    return update_zone(
        session=session, operator=operator, zone=zone, zone_in=ZoneUpdate(door_ids=sorted(current | door_ids))
    )


def remove_zone_door(*, session: Session, operator: Operator, zone: Zone, door_id: int) -> Zone:
    assert zone.id is not None
    current = doors_of_zone(session=session, zone_id=zone.id)
    return update_zone(
        session=session,
        operator=operator,
        zone=zone,
        zone_in=ZoneUpdate(door_ids=sorted(current - {door_id})),
    )


def delete_zone(*, session: Session, operator: Operator, zone: Zone) -> None:
    """Removes the zone and the rules that name it; its doors lose those grants."""
    assert zone.id is not None
    before = snapshot(ZonePublic, zone_public(session=session, zone=zone))
    affected = doors_of_zone(session=session, zone_id=zone.id)
    for rule in session.exec(select(AccessRule).where(AccessRule.zone_id == zone.id)).all():
        session.delete(rule)
    for member in session.exec(select(ZoneDoor).where(col(ZoneDoor.zone_id) == zone.id)).all():
        session.delete(member)
    session.flush()
    session.delete(zone)
    session.flush()
    recompute_doors(session=session, door_ids=affected)
    record_change(
        session=session,
        operator=operator,
        action="delete",
        entity="zone",
        entity_id=zone.id,
        site_id=zone.site_id,
        before=before,
    )
