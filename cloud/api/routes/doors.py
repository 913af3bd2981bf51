"""/doors: CRUD, provisioning (secrets appear once, in the answer that issues them), key rotation,
retirement, permissions, commands."""

from typing import Annotated

from fastapi import APIRouter, Query, status

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
from cloud.commands import service as commands
from cloud.commands.models import CommandCreate, CommandPublic, CommandsPublic
from cloud.crud import doors as service
from cloud.crud.scope import get_visible
from cloud.errors import Conflict, Invalid
from cloud.lockkeys import service as lockkeys
from cloud.lockkeys.models import RotationPublic
from cloud.models.common import now_ts
from cloud.models.door import (
    Door,
    DoorCreate,
    DoorCreated,
    DoorPublic,
    DoorsPublic,
    DoorUpdate,
    ProvisioningBundle,
)
from cloud.models.site import Site
from cloud.permissions.models import EffectivePermissionsPublic, WhoCanEnterPublic
from cloud.permissions.service import door_permissions
from cloud.permissions.who import who_can_enter
from cloud.timezones import LAST_TABLE_START

router = APIRouter(prefix="/doors", tags=["doors"])


@router.get("", response_model=DoorsPublic)
def list_doors(
    session: SessionDep, operator: CurrentOperator, paging: PageDep, site_id: SiteFilter = None
) -> DoorsPublic:
    rows, count = list_visible(session=session, model=Door, operator=operator, paging=paging, site_id=site_id)
    return DoorsPublic(data=[service.door_public(session=session, door=row) for row in rows], count=count)


@router.post("", response_model=DoorCreated, status_code=status.HTTP_201_CREATED)
def create_door(session: SessionDep, operator: WriterOperator, door_in: DoorCreate) -> DoorCreated:
    """Creates a door with its lock's keys. `provisioning` (and `device_secret`) is shown this once: write it
    into the lock's config."""
    door, bundle = service.create_door(session=session, operator=operator, door_in=door_in)
    session.commit()
    public = service.door_public(session=session, door=door)
    return DoorCreated.model_validate(
        public, update={"device_secret": bundle.device_secret, "provisioning": bundle}
    )


@router.get("/{door_id}", response_model=DoorPublic)
def read_door(session: SessionDep, operator: CurrentOperator, door_id: ObjectId) -> DoorPublic:
    door = get_visible(session=session, model=Door, obj_id=door_id, operator=operator, entity="door")
    return service.door_public(session=session, door=door)


@router.patch("/{door_id}", response_model=DoorPublic)
def update_door(
    session: SessionDep, operator: WriterOperator, door_id: ObjectId, door_in: DoorUpdate
) -> DoorPublic:
    door = get_visible(session=session, model=Door, obj_id=door_id, operator=operator, entity="door")
    service.update_door(session=session, operator=operator, door=door, door_in=door_in)
    session.commit()
    return service.door_public(session=session, door=door)


@router.delete("/{door_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_door(session: SessionDep, operator: WriterOperator, door_id: ObjectId) -> None:
    door = get_visible(session=session, model=Door, obj_id=door_id, operator=operator, entity="door")
    service.delete_door(session=session, operator=operator, door=door)
    session.commit()


@router.post("/{door_id}/provision", response_model=ProvisioningBundle)
def provision_door(session: SessionDep, operator: WriterOperator, door_id: ObjectId) -> ProvisioningBundle:
    """Provisions the door's lock again: a new device secret (new key generation), a new broker password,
    the epoch + 1. The answer is shown this once; the lock's previous keys stop working. 409 if retired."""
    door = get_visible(session=session, model=Door, obj_id=door_id, operator=operator, entity="door")
    bundle = lockkeys.provision_door(session=session, operator=operator, door=door)
    session.commit()
    return bundle


@router.post("/{door_id}/rotate-secret", response_model=RotationPublic, status_code=status.HTTP_202_ACCEPTED)
def rotate_secret(session: SessionDep, operator: WriterOperator, door_id: ObjectId) -> RotationPublic:
    """Starts a rotation of the lock's device secret; the MQTT sync delivers it (`rekey`) and the old key
    stays valid until the lock answers under the new one. 409 if retired or a rotation is in flight."""
    door = get_visible(session=session, model=Door, obj_id=door_id, operator=operator, entity="door")
    rotation = lockkeys.rotate_door_secret(session=session, operator=operator, door=door)
    session.commit()
    return rotation


@router.post("/{door_id}/retire", response_model=DoorPublic)
def retire_door(session: SessionDep, operator: WriterOperator, door_id: ObjectId) -> DoorPublic:
    """Retires the door's lock: its secrets and broker account are erased and nothing it sends is accepted.
    The door, its history and its rules stay. Idempotent."""
    door = get_visible(session=session, model=Door, obj_id=door_id, operator=operator, entity="door")
    lockkeys.retire_door(session=session, operator=operator, door=door)
    session.commit()
    return service.door_public(session=session, door=door)


@router.get("/{door_id}/effective-permissions", response_model=EffectivePermissionsPublic)
def effective_permissions(
    session: SessionDep, operator: CurrentOperator, door_id: ObjectId
) -> EffectivePermissionsPublic:
    """The list the door's lock must enforce, in the wire format, with its version."""
    door = get_visible(session=session, model=Door, obj_id=door_id, operator=operator, entity="door")
    assert door.id is not None
    state = door_permissions(session=session, door_id=door.id)
    return EffectivePermissionsPublic.model_validate(state, update={"count": len(state.entries)})


@router.get("/{door_id}/who-can-enter", response_model=WhoCanEnterPublic)
def read_who_can_enter(
    session: SessionDep,
    operator: CurrentOperator,
    door_id: ObjectId,
    at: Annotated[Instant | None, Query()] = None,
) -> WhoCanEnterPublic:
    """Who can open this door at `at` (Unix seconds or ISO 8601; default now), with the granting rules."""
    door = get_visible(session=session, model=Door, obj_id=door_id, operator=operator, entity="door")
    site = session.get(Site, door.site_id)
    assert site is not None
    instant = to_unix(at, "at")
    if instant is not None and instant > LAST_TABLE_START:
        raise Invalid("at", "instant out of range (before June 9999)", location="query")
    return who_can_enter(session=session, door=door, site=site, at=now_ts() if instant is None else instant)


@router.post("/{door_id}/commands", response_model=CommandPublic, status_code=status.HTTP_202_ACCEPTED)
def create_command(
    session: SessionDep, operator: WriterOperator, door_id: ObjectId, command_in: CommandCreate
) -> CommandPublic:
    """Records a remote unlock/lock as pending; the MQTT sync delivers it and reports its status."""
    door = get_visible(session=session, model=Door, obj_id=door_id, operator=operator, entity="door")
    if door.retired_at:
        raise Conflict(f"door {door.id} is retired: its lock accepts no commands")
    command = commands.create_command(session=session, operator=operator, door=door, action=command_in.action)
    session.commit()
    return CommandPublic.model_validate(command)


@router.get("/{door_id}/commands", response_model=CommandsPublic)
def list_commands(
    session: SessionDep, operator: CurrentOperator, door_id: ObjectId, paging: PageDep
) -> CommandsPublic:
    """The door's commands, newest first."""
    door = get_visible(session=session, model=Door, obj_id=door_id, operator=operator, entity="door")
    rows, count = commands.list_commands(session=session, door=door, offset=paging.offset, limit=paging.limit)
    return CommandsPublic(data=[CommandPublic.model_validate(row) for row in rows], count=count)
