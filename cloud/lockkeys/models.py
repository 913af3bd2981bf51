"""The keys of one door's lock, sealed under the master key (cloud.vault), and the rotation state."""

from typing import Literal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cloud.models.common import now_ts
from cloud.vault.sealing import SEALED_MAX_CHARS

# none: never rotated since provisioning; pending: a next secret waits to be sent (`rekey`); delivered: sent,
# waiting for the first uplink under it; confirmed: the last rotation completed (the old secret is erased).
RekeyState = Literal["none", "pending", "delivered", "confirmed"]
IN_FLIGHT: tuple[str, ...] = ("pending", "delivered")


# One row per provisioned, not retired door. The current secret of generation `gen` and, while a rotation is
# in flight, the next one (generation gen + 1). Retiring the door deletes the row.
class DoorKey(SQLModel, table=True):
    __tablename__ = "door_key"
    door_id: int = Field(foreign_key="door.id", primary_key=True)
    gen: int = Field(sa_type=sa.BigInteger)
    secret_sealed: str = Field(sa_type=sa.String(SEALED_MAX_CHARS))
    next_secret_sealed: str | None = Field(default=None, sa_type=sa.String(SEALED_MAX_CHARS))
    rekey_state: str = Field(default="none", sa_type=sa.String(16))
    rekey_requested_at: int = Field(default=0, sa_type=sa.BigInteger)
    # Mosquitto 2.0 password-file hash ($7$, PBKDF2-SHA512) of the lock's broker password (username =
    # device id); the password itself is shown once in the provisioning bundle.
    broker_password_hash: str = Field(default="", sa_type=sa.String(200))
    updated_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


# The answer to POST /doors/{id}/rotate-secret (never a secret: the sync delivers it to the lock).
class RotationPublic(SQLModel):
    door_id: int
    key_generation: int
    next_generation: int
    rekey_state: str


# A door that POST /sites/{id}/rotate-key left alone, and why.
class RotationSkipped(SQLModel):
    door_id: int
    reason: str


# The answer to POST /sites/{id}/rotate-key.
class SiteRotationPublic(SQLModel):
    site_id: int
    rotated: list[RotationPublic]
    skipped: list[RotationSkipped]
