"""Zones and their door membership. Moving a door in or out recomputes that door only."""

from sqlmodel import Session

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.crud.membership import ZONE_DOORS, check_members, replace_members, set_member
from cloud.crud.scope import delete_with_dependents, snapshot, target_site
from cloud.models.rule import AccessRule
from cloud.models.zone import Zone, ZoneCreate, ZoneDoor, ZonePublic, ZoneUpdate
from cloud.permissions.service import doors_of_zone, recompute_doors


def zone_public(*, session: Session, zone: Zone) -> ZonePublic:
    assert zone.id is not None
    door_ids = sorted(doors_of_zone(session=session, zone_id=zone.id))
    return ZonePublic.model_validate(zone, update={"door_ids": door_ids})


def _set_doors(*, session: Session, zone: Zone, door_ids: set[int]) -> None:
    """Replace the zone's doors; recompute exactly the doors that joined or left."""
    assert zone.id is not None
    changed = replace_members(session=session, link=ZONE_DOORS, parent_id=zone.id, ids=door_ids)
    recompute_doors(session=session, door_ids=changed)


def create_zone(*, session: Session, operator: Operator, zone_in: ZoneCreate) -> Zone:
    site = target_site(session=session, operator=operator, requested=zone_in.site_id)
    assert site.id is not None
    door_ids = check_members(
        session=session, link=ZONE_DOORS, site_id=site.id, ids=zone_in.door_ids, field="door_ids"
    )
    zone = Zone(name=zone_in.name, site_id=site.id)
    session.add(zone)
    session.flush()
    _set_doors(session=session, zone=zone, door_ids=door_ids)
    record_object_change(
        session=session,
        operator=operator,
        action="create",
        entity="zone",
        obj=zone,
        after=snapshot(ZonePublic, zone_public(session=session, zone=zone)),
    )
    return zone


def update_zone(*, session: Session, operator: Operator, zone: Zone, zone_in: ZoneUpdate) -> Zone:
    before = snapshot(ZonePublic, zone_public(session=session, zone=zone))
    if zone_in.name is not None:
        zone.name = zone_in.name
        session.add(zone)
    if zone_in.door_ids is not None:
        door_ids = check_members(
            session=session, link=ZONE_DOORS, site_id=zone.site_id, ids=zone_in.door_ids, field="door_ids"
        )
        _set_doors(session=session, zone=zone, door_ids=door_ids)
    session.flush()
    record_object_change(
        session=session,
        operator=operator,
        action="update",
        entity="zone",
        obj=zone,
        before=before,
        after=snapshot(ZonePublic, zone_public(session=session, zone=zone)),
    )
    return zone


def set_zone_door(*, session: Session, operator: Operator, zone: Zone, door_id: int, member: bool) -> Zone:
    """Add (member=True) or remove one door; idempotent; recomputes that door only if it moved."""
    if set_member(
        session=session,
        operator=operator,
        link=ZONE_DOORS,
        parent=zone,
        entity="zone",
        member_id=door_id,
        member=member,
    ):
        recompute_doors(session=session, door_ids=[door_id])
    return zone


def delete_zone(*, session: Session, operator: Operator, zone: Zone) -> None:
    """Removes the zone and the rules that name it; its doors lose those grants."""
    assert zone.id is not None
    before = snapshot(ZonePublic, zone_public(session=session, zone=zone))
    affected = doors_of_zone(session=session, zone_id=zone.id)
    delete_with_dependents(session=session, obj=zone, dependents=(AccessRule.zone_id, ZoneDoor.zone_id))
    recompute_doors(session=session, door_ids=affected)
    record_object_change(
        session=session,
        operator=operator,
        action="delete",
        entity="zone",
        obj=zone,
        before=before,
    )
