"""Webhook endpoints (per site), the outbox of deliveries, and every attempt at sending one."""

from typing import Annotated, Literal

import sqlalchemy as sa
from pydantic import AfterValidator
from pydantic import Field as PydanticField
from sqlmodel import Field, Index, SQLModel

from cloud.integrations.webhooks.kinds import WebhookKind
from cloud.models.common import DbId, Label, now_ts, storable_text
from cloud.vault.sealing import SEALED_MAX_CHARS

MAX_URL_CHARS = 2000
DeliveryStatus = Literal["pending", "delivered", "failed"]


def _unique_kinds(kinds: list[str]) -> list[str]:
    if len(set(kinds)) != len(kinds):
        raise ValueError("each kind at most once")
    return kinds


WebhookUrl = Annotated[
    str, PydanticField(min_length=1, max_length=MAX_URL_CHARS), AfterValidator(storable_text)
]
Kinds = Annotated[list[WebhookKind], PydanticField(min_length=1), AfterValidator(_unique_kinds)]


# Fields an administrator sets on an endpoint.
class WebhookEndpointBase(SQLModel):
    url: WebhookUrl = Field(sa_type=sa.String(MAX_URL_CHARS))
    kinds: Kinds = Field(sa_type=sa.JSON)
    description: Label = Field(default="", sa_type=sa.String(200))
    # A disabled endpoint gets no new deliveries; those already queued wait until it is enabled again.
    enabled: bool = True


# Body of POST /webhooks.
class WebhookEndpointCreate(WebhookEndpointBase):
    site_id: DbId | None = None


# Body of PATCH /webhooks/{id}.
class WebhookEndpointUpdate(SQLModel):
    url: WebhookUrl | None = None
    kinds: Kinds | None = None
    description: Label | None = None
    enabled: bool | None = None


# The stored endpoint. Its signing secret is sealed under the master key (cloud.vault), bound to this row;
# lease_owner/lease_until: the delivery worker sending to it now (one at a time keeps deliveries in order).
class WebhookEndpoint(WebhookEndpointBase, table=True):
    __tablename__ = "webhook_endpoint"
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    secret_sealed: str = Field(default="", sa_type=sa.String(SEALED_MAX_CHARS))
    lease_owner: str = Field(default="", sa_type=sa.String(64))
    lease_until: int = Field(default=0, sa_type=sa.BigInteger)
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


# An endpoint as the API shows it (never its secret), with its queue.
class WebhookEndpointPublic(WebhookEndpointBase):
    id: int
    site_id: int
    created_at: int
    pending: int
    failed: int


# The answer to POST /webhooks: the only time the signing secret is shown.
class WebhookEndpointCreated(WebhookEndpointPublic):
    secret: str


# A page of endpoints.
class WebhookEndpointsPublic(SQLModel):
    data: list[WebhookEndpointPublic]
    count: int


# One message for one endpoint: the outbox row, written in the transaction of its cause. body is the exact
# JSON that is signed and sent; delivery_id (a UUID) is in the body and the X-Openakerun-Delivery header,
# so that a receiver can drop a repeat. pending -> delivered, or failed once older than the maximum age.
class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_endpoint_status_id", "endpoint_id", "status", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(sa_type=sa.String(36), unique=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id")
    site_id: int
    kind: str = Field(sa_type=sa.String(32))
    body: str = Field(sa_type=sa.Text)
    status: str = Field(default="pending", sa_type=sa.String(16))
    attempts: int = 0
    created_at: int = Field(sa_type=sa.BigInteger)
    next_attempt_at: int = Field(sa_type=sa.BigInteger)
    last_attempt_at: int = Field(default=0, sa_type=sa.BigInteger)
    finished_at: int = Field(default=0, sa_type=sa.BigInteger)
    last_status_code: int = 0
    last_error: str = Field(default="", sa_type=sa.String(200))


# One try at sending a delivery: the HTTP status (0: no answer) or what went wrong.
class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    at: int = Field(sa_type=sa.BigInteger)
    status_code: int = 0
    error: str = Field(default="", sa_type=sa.String(200))
    duration_ms: int = 0


# An attempt as the API shows it.
class WebhookAttemptPublic(SQLModel):
    at: int
    status_code: int
    error: str
    duration_ms: int


# A delivery as the API shows it (the body is what was, or will be, sent).
class WebhookDeliveryPublic(SQLModel):
    id: int
    delivery_id: str
    endpoint_id: int
    site_id: int
    kind: str
    status: DeliveryStatus
    attempts: int
    created_at: int
    next_attempt_at: int
    last_attempt_at: int
    finished_at: int
    last_status_code: int
    last_error: str
    body: str


# One delivery with every attempt, oldest first.
class WebhookDeliveryDetail(WebhookDeliveryPublic):
    attempt_log: list[WebhookAttemptPublic]


# A page of deliveries, newest first.
class WebhookDeliveriesPublic(SQLModel):
    data: list[WebhookDeliveryPublic]
    count: int
