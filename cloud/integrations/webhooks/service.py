"""Webhook endpoints: register (the signing secret shown once, stored sealed), change, delete, ping; and
the deliveries of an endpoint with their attempts."""

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, delete, func, select

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.crud.scope import page, snapshot, target_site
from cloud.errors import Invalid, NotFound
from cloud.integrations.webhooks.models import (
    WebhookAttempt,
    WebhookAttemptPublic,
    WebhookDelivery,
    WebhookDeliveryDetail,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointPublic,
    WebhookEndpointUpdate,
)
from cloud.integrations.webhooks.outbox import queue_ping
from cloud.integrations.webhooks.signing import new_secret
from cloud.integrations.webhooks.targets import TargetRefused, check_url
from cloud.models.common import now_ts
from cloud.settings import Settings
from cloud.vault.master import active_sealer

_SECRET = {"table": "webhook_endpoint", "column": "secret"}


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    """The endpoint's signing secret, opened with the master key."""
    return active_sealer().open(endpoint.secret_sealed, row=endpoint.id, **_SECRET).decode("ascii")


def _check_url(url: str, settings: Settings) -> None:
    try:
        check_url(url, settings)
    except TargetRefused as error:
        raise Invalid("url", str(error)) from None


def endpoint_public(*, session: Session, endpoint: WebhookEndpoint) -> WebhookEndpointPublic:
    counts = dict(
        session.execute(
            sa.select(col(WebhookDelivery.status), func.count())
            .where(col(WebhookDelivery.endpoint_id) == endpoint.id)
            .group_by(col(WebhookDelivery.status))
        ).all()
    )
    return WebhookEndpointPublic.model_validate(
        endpoint, update={"pending": counts.get("pending", 0), "failed": counts.get("failed", 0)}
    )


def _audit(
    session: Session, operator: Operator, action: str, endpoint: WebhookEndpoint, **views: Any
) -> None:
    record_object_change(
        session=session, operator=operator, action=action, entity="webhook", obj=endpoint, **views
    )


def create_endpoint(
    *, session: Session, operator: Operator, settings: Settings, endpoint_in: WebhookEndpointCreate
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (to be shown once)."""
    site = target_site(session=session, operator=operator, requested=endpoint_in.site_id)
    _check_url(endpoint_in.url, settings)
    endpoint = WebhookEndpoint.model_validate(endpoint_in, update={"site_id": site.id})
    session.add(endpoint)
    session.flush()  # the row id binds the sealed secret to this row
    secret = new_secret()
    endpoint.secret_sealed = active_sealer().seal(secret.encode("ascii"), row=endpoint.id, **_SECRET)
    session.add(endpoint)
    session.flush()
    _audit(
        session, operator, "create", endpoint, after=snapshot(WebhookEndpointPublic, endpoint, **_no_queue())
    )
    return endpoint, secret


def _no_queue() -> dict[str, int]:
    return {"pending": 0, "failed": 0}


def update_endpoint(
    *,
    session: Session,
    operator: Operator,
    settings: Settings,
    endpoint: WebhookEndpoint,
    endpoint_in: WebhookEndpointUpdate,
) -> WebhookEndpoint:
    changes = endpoint_in.model_dump(exclude_unset=True, exclude_none=True)
    if "url" in changes:
        _check_url(changes["url"], settings)
    before = snapshot(WebhookEndpointPublic, endpoint, **_no_queue())
    endpoint.sqlmodel_update(changes)
    after = snapshot(WebhookEndpointPublic, endpoint, **_no_queue())
    if after == before:
        return endpoint
    session.add(endpoint)
    session.flush()
    _audit(session, operator, "update", endpoint, before=before, after=after)
    return endpoint


def _delete_queues(*, session: Session, endpoint_ids: Any) -> None:
    """The deliveries (sent or not) and attempts of these endpoints (a list or a subquery of ids)."""
    deliveries = select(WebhookDelivery.id).where(col(WebhookDelivery.endpoint_id).in_(endpoint_ids))
    session.execute(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(deliveries)))
    session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id).in_(endpoint_ids)))


def delete_endpoint(*, session: Session, operator: Operator, endpoint: WebhookEndpoint) -> None:
    """Removes the endpoint with its deliveries (sent or not) and their attempts."""
    before = snapshot(WebhookEndpointPublic, endpoint, **_no_queue())
    _delete_queues(session=session, endpoint_ids=[endpoint.id])
    _audit(session, operator, "delete", endpoint, before=before)
    session.delete(endpoint)
    session.flush()


def delete_site_endpoints(*, session: Session, site_id: int) -> None:
    """Every endpoint of a site being deleted, with their queues (the site's deletion is the audit entry)."""
    endpoints = select(WebhookEndpoint.id).where(WebhookEndpoint.site_id == site_id)
    _delete_queues(session=session, endpoint_ids=endpoints)
    session.execute(delete(WebhookEndpoint).where(col(WebhookEndpoint.site_id) == site_id))
    session.flush()


def ping_endpoint(*, session: Session, operator: Operator, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queues a "ping" to this endpoint only (audited, like any change)."""
    delivery = queue_ping(
        session=session, endpoint=endpoint, data={"endpoint_id": endpoint.id, "at": now_ts()}
    )
    _audit(session, operator, "ping", endpoint, after={"delivery_id": delivery.delivery_id})
    return delivery


def list_deliveries(
    *, session: Session, endpoint: WebhookEndpoint, status: str | None, offset: int, limit: int
) -> tuple[list[WebhookDelivery], int]:
    """The endpoint's deliveries, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return page(
        session=session, query=query, order_by=col(WebhookDelivery.id).desc(), offset=offset, limit=limit
    )


def delivery_detail(
    *, session: Session, endpoint: WebhookEndpoint, delivery_id: int
) -> WebhookDeliveryDetail:
    """One delivery of the endpoint with every attempt, oldest first (404 if it is not the endpoint's)."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound("delivery", delivery_id)
    attempts = session.exec(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(col(WebhookAttempt.id))
    ).all()
    return WebhookDeliveryDetail.model_validate(
        delivery, update={"attempt_log": [WebhookAttemptPublic.model_validate(a) for a in attempts]}
    )
