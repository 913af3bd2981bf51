"""Remote commands: recorded as pending here; the MQTT sync (a later issue) delivers them."""

import uuid

from sqlmodel import Session, col, select

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.commands.models import Command, CommandPublic
from cloud.crud.scope import page, snapshot
from cloud.models.door import Door


def create_command(*, session: Session, operator: Operator, door: Door, action: str) -> Command:
    assert door.id is not None
    command = Command(
        wire_id=str(uuid.uuid4()),
        site_id=door.site_id,
        door_id=door.id,
        action=action,
        created_by=operator.name,
    )
    session.add(command)
    session.flush()
    record_object_change(
        session=session,
        operator=operator,
        action="command",
        entity="door",
        obj=door,
        after=snapshot(CommandPublic, command),
    )
    return command


def pending_commands(*, session: Session, door_id: int) -> list[Command]:
    """Oldest first: what the sync should deliver next."""
    query = select(Command).where(Command.door_id == door_id, Command.status == "pending")
    return list(session.exec(query.order_by(col(Command.id))).all())


def list_commands(*, session: Session, door: Door, offset: int, limit: int) -> tuple[list[Command], int]:
    query = select(Command).where(Command.door_id == door.id)
    return page(
        session=session,
        query=query,
        order_by=col(Command.id).desc(),
        offset=offset,
        limit=limit,
    )
