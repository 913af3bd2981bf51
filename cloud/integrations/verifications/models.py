"""Verifications posted by external authenticators (a face terminal), with the cloud's decision."""

from typing import Annotated, Literal

import sqlalchemy as sa
from pydantic import AfterValidator
from pydantic import Field as PydanticField
from sqlmodel import Field, Index, SQLModel

from cloud.commands.models import CommandPublic
from cloud.models.common import DbId, ExternalId, now_ts, storable_text

# granted: a one-shot unlock was created; denied: not; awaiting_card: a card-and-face door waits for the
# person's card (within the door's require_face_s).
VerificationDecision = Literal["granted", "denied", "awaiting_card"]
# Why (decision granted: "face" or "card_and_face"; denied: one of the others).
VerificationReason = Literal[
    "face",
    "card_and_face",
    "awaiting_card",
    "below_threshold",
    "not_allowed",
    "face_disabled",
    "door_retired",
]
TerminalId = Annotated[str, PydanticField(min_length=1, max_length=64), AfterValidator(storable_text)]


# Body of POST /integrations/verifications: the person (exactly one of user_id / external_id), the door,
# the authenticator's confidence (0..1) and the terminal's own name for itself.
class VerificationCreate(SQLModel):
    user_id: DbId | None = None
    external_id: ExternalId | None = None
    door_id: DbId
    confidence: float = PydanticField(ge=0, le=1, allow_inf_nan=False)
    terminal_id: TerminalId


# One verification and what the cloud decided. command_id: the unlock it created; event_id: the entry
# (or refusal) it logged; card_event_id: the card tap it completed at a card-and-face door.
class Verification(SQLModel, table=True):
    __table_args__ = (Index("ix_verification_door_user_created", "door_id", "user_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(index=True)
    door_id: int
    user_id: int
    terminal_id: str = Field(sa_type=sa.String(64))
    key_id: int | None = None
    confidence: float = Field(sa_type=sa.Float)
    threshold: float | None = Field(default=None, sa_type=sa.Float)
    decision: str = Field(sa_type=sa.String(16))
    reason: str = Field(sa_type=sa.String(32))
    command_id: int | None = None
    event_id: int | None = None
    card_event_id: int | None = Field(default=None, unique=True)
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)
    # awaiting_card: the card must arrive by then.
    expires_at: int = Field(default=0, sa_type=sa.BigInteger)


# The answer to POST /integrations/verifications.
class VerificationPublic(SQLModel):
    id: int
    site_id: int
    door_id: int
    user_id: int
    terminal_id: str
    confidence: float
    threshold: float | None
    decision: VerificationDecision
    reason: VerificationReason
    command: CommandPublic | None
    event_id: int | None
    card_event_id: int | None
    created_at: int
    expires_at: int
