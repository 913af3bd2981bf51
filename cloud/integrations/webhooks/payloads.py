"""The `data` of each webhook kind (docs/INTEGRATIONS.md lists every field)."""

from typing import Any

from sqlmodel import Session, col, select

from cloud.commands.models import Command
from cloud.events.models import Event
from cloud.models.door import Door
from cloud.models.user import User


def people(*, session: Session, user_ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """user id -> (name, external id) of those still in the directory."""
    if not user_ids:
        return {}
    rows = session.exec(select(User.id, User.name, User.external_id).where(col(User.id).in_(user_ids))).all()
    return {user_id: (name, external_id) for user_id, name, external_id in rows if user_id is not None}


def event_data(event: Event, door: Door, person: tuple[str, str | None] | None) -> dict[str, Any]:
    """entry_granted, entry_denied, door_forced, door_held_open."""
    name, external_id = person if person is not None else (None, None)
    return {
        "event_id": event.id,
        "door_id": event.door_id,
        "door_name": door.name,
        "seq": event.seq,
        "ts": event.ts,
        "clock_set": event.clock_set,
        "type": event.type,
        "result": event.result,
        "reason": event.reason,
        "method": event.method,
        "terminal_id": event.terminal_id,
        "user_id": event.user_id,
        "user_name": name,
        "external_id": external_id,
        "credential_id": event.credential_id,
    }


def command_data(command: Command) -> dict[str, Any]:
    """command_result: a command reached an end (done, failed, expired)."""
    return {
        "command_id": command.id,
        "wire_id": command.wire_id,
        "door_id": command.door_id,
        "action": command.action,
        "status": command.status,
        "error": command.error,
        "created_by": command.created_by,
        "created_at": command.created_at,
        "updated_at": command.updated_at,
    }


def permission_data(door: Door, version: int) -> dict[str, Any]:
    """permission_change: the door's permission version stepped (the sync will bring its lock there)."""
    return {"door_id": door.id, "door_name": door.name, "version": version}


def lock_status_data(door: Door, online: bool, at: int) -> dict[str, Any]:
    """lock_online, lock_offline."""
    return {
        "door_id": door.id,
        "door_name": door.name,
        "device_id": door.device_id,
        "online": online,
        "at": at,
    }


def gap_data(door: Door, from_seq: int, to_seq: int, from_ts: int, to_ts: int) -> dict[str, Any]:
    """log_gap: the lock's events from_seq..to_seq are lost (between from_ts and to_ts; 0: unknown)."""
    return {
        "door_id": door.id,
        "door_name": door.name,
        "from_seq": from_seq,
        "to_seq": to_seq,
        "from_ts": from_ts,
        "to_ts": to_ts,
    }
