"""Remote commands to a lock (unlock, lock) and their delivery status."""

from typing import Literal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cloud.models.common import now_ts

CommandAction = Literal["unlock", "lock"]
CommandStatus = Literal["pending", "sent", "done", "failed", "expired"]


# Body of POST /doors/{id}/commands.
class CommandCreate(SQLModel):
    action: CommandAction


# The stored command; wire_id is the "id" the lock sees (a UUID, <= 36 chars), id orders commands.
class Command(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    wire_id: str = Field(sa_type=sa.String(36), unique=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    door_id: int = Field(foreign_key="door.id", index=True)
    action: str = Field(sa_type=sa.String(16))
    status: str = Field(default="pending", sa_type=sa.String(16))
    error: str = Field(default="", sa_type=sa.String(32))
    created_by: str = Field(sa_type=sa.String(200))
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)
    updated_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)
    # Unix seconds after which the command must not run (0: the sync's default lifetime). The sync sends it
    # as the message's expiry `x`, and marks the command expired if it could not deliver it in time.
    expires_at: int = Field(default=0, sa_type=sa.BigInteger)


# A command as the API shows it.
class CommandPublic(SQLModel):
    id: int
    wire_id: str
    site_id: int
    door_id: int
    action: CommandAction
    status: CommandStatus
    error: str
    created_by: str
    created_at: int
    updated_at: int
    expires_at: int


# A page of commands, newest first.
class CommandsPublic(SQLModel):
    data: list[CommandPublic]
    count: int
