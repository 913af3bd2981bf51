"""Remote commands: recorded as pending here; the MQTT sync delivers them and reports their status
through set_command_status(), which queues the command_result webhook when a command reaches its end."""

import uuid

from sqlmodel import Session, col, select

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.commands.models import Command, CommandPublic
from cloud.crud.scope import page, snapshot
from cloud.integrations.hooks import command_finished
from cloud.models.common import now_ts
from cloud.models.door import Door

# A command at one of these has reached its end: command_result webhook.
FINAL_STATUSES = ("done", "failed", "expired")


def create_command(
    *, session: Session, operator: Operator, door: Door, action: str, expires_at: int = 0
) -> Command:
    """A pending command (audited); expires_at 0: the sync's default lifetime."""
    assert door.id is not None
    command = Command(
        wire_id=str(uuid.uuid4()),
        site_id=door.site_id,
        door_id=door.id,
        action=action,
        created_by=operator.name,
        expires_at=expires_at,
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


def set_command_status(*, session: Session, command: Command, status: str, error: str = "") -> bool:
    """Move a command to `status` (sent, done, failed, expired) with the lock's error, if any; queues the
    command_result webhook when it reaches done, failed or expired. A command already at an end keeps it
    (a late or repeated cmd_result changes nothing). True if the status changed. Flushes."""
    if status not in ("pending", "sent", *FINAL_STATUSES):
        raise ValueError(f"unknown command status {status!r}")
    if command.status in FINAL_STATUSES or (command.status, command.error) == (status, error):
        return False
    command.status, command.error, command.updated_at = status, error[:32], now_ts()
    session.add(command)
    session.flush()
    if status in FINAL_STATUSES:
        command_finished(session=session, command=command)
    return True


def expire_commands(*, session: Session, now: int | None = None) -> int:
    """Mark pending or sent commands whose expires_at has passed as expired (with their webhooks)."""
    moment = now_ts() if now is None else now
    query = select(Command).where(
        col(Command.status).in_(("pending", "sent")), Command.expires_at > 0, Command.expires_at <= moment
    )
    expired = list(session.exec(query.order_by(col(Command.id))).all())
    for command in expired:
        set_command_status(session=session, command=command, status="expired")
    return len(expired)
