"""Doors: create (provisioned: fresh keys, an empty permission list), update, delete."""

from sqlmodel import Session, select

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.commands.models import Command
from cloud.crud.scope import delete_with_dependents, snapshot, target_site
from cloud.errors import Conflict, Invalid
from cloud.lockkeys.models import DoorKey
from cloud.lockkeys.service import issue_keys, key_status
from cloud.models.door import Door, DoorCreate, DoorPublic, DoorUpdate, ProvisioningBundle
from cloud.models.rule import AccessRule
from cloud.models.zone import ZoneDoor
from cloud.permissions.models import DoorPermissions
from cloud.permissions.service import door_permissions, recompute_doors


def door_public(*, session: Session, door: Door) -> DoorPublic:
    assert door.id is not None
    version = door_permissions(session=session, door_id=door.id).version
    gen, state = key_status(session=session, door_id=door.id)
    return DoorPublic.model_validate(
        door,
        update={
            "permission_version": version,
            "key_generation": gen,
            "rekey_state": state,
            "retired": bool(door.retired_at),
        },
    )


def _check_passage(mode: str, windows: list[list[int]]) -> None:
    if mode == "passage" and not windows:
        raise Invalid("passage_windows", "passage mode needs at least one passage window")


def _check_two_factor(require_face_s: int, face_threshold: float | None) -> None:
    if require_face_s and face_threshold is None:
        raise Invalid("require_face_s", "a card-and-face door needs face_threshold (faces are not accepted)")


def create_door(
    *, session: Session, operator: Operator, door_in: DoorCreate
) -> tuple[Door, ProvisioningBundle]:
    """A new door, provisioned: its bundle (device secret, site key, broker password...) is shown once."""
    site = target_site(session=session, operator=operator, requested=door_in.site_id)
    _check_passage(door_in.mode, door_in.passage_windows)
    _check_two_factor(door_in.require_face_s, door_in.face_threshold)
    if session.exec(select(Door.id).where(Door.device_id == door_in.device_id)).first() is not None:
        raise Conflict(f"device id {door_in.device_id!r} is already used by another door")
    door = Door.model_validate(door_in, update={"site_id": site.id})
    session.add(door)
    session.flush()
    assert door.id is not None
    recompute_doors(session=session, door_ids=[door.id])
    bundle = issue_keys(session=session, door=door)
    record_object_change(
        session=session,
        operator=operator,
        action="create",
        entity="door",
        obj=door,
        after=snapshot(DoorPublic, door_public(session=session, door=door)),
    )
    return door, bundle


def update_door(*, session: Session, operator: Operator, door: Door, door_in: DoorUpdate) -> Door:
    before = snapshot(DoorPublic, door_public(session=session, door=door))
    changes = door_in.model_dump(exclude_unset=True, exclude_none=True)
    if "face_threshold" in door_in.model_fields_set:  # null is a value here: no face unlocks
        changes["face_threshold"] = door_in.face_threshold
    _check_passage(changes.get("mode", door.mode), changes.get("passage_windows", door.passage_windows))
    _check_two_factor(
        changes.get("require_face_s", door.require_face_s), changes.get("face_threshold", door.face_threshold)
    )
    door.sqlmodel_update(changes)
    session.add(door)
    session.flush()
    record_object_change(
        session=session,
        operator=operator,
        action="update",
        entity="door",
        obj=door,
        before=before,
        after=snapshot(DoorPublic, door_public(session=session, door=door)),
    )
    return door


def delete_door(*, session: Session, operator: Operator, door: Door) -> None:
    """Removes the door with its zone memberships, the rules that name it and its commands.

    Events stay (history). No other door's list changes: rules naming this door reach no other door.
    """
    before = snapshot(DoorPublic, door_public(session=session, door=door))
    record_object_change(
        session=session,
        operator=operator,
        action="delete",
        entity="door",
        obj=door,
        before=before,
    )
    delete_with_dependents(
        session=session,
        obj=door,
        dependents=(
            ZoneDoor.door_id,
            AccessRule.door_id,
            Command.door_id,
            DoorPermissions.door_id,
            DoorKey.door_id,
        ),
    )
