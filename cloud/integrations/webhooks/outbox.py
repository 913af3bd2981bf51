"""The outbox: emit() queues one delivery per subscribed endpoint, inside the caller's transaction.

A change and the webhooks it causes commit together or not at all, so a committed change always has its
deliveries and a rolled-back one has none; the delivery worker (cloud.integrations.webhooks.worker) sends
them later, retrying until the receiver takes them.

    emit(session=session, site_id=door.site_id, kind="lock_offline", payload={...})

Body of every delivery (ASCII JSON, the exact bytes that are signed):
    {"id": "<delivery uuid>", "kind": "<kind>", "site_id": 1, "created_at": <unix s>, "data": {...}}
"""

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from cloud.integrations.webhooks.kinds import KINDS, PING
from cloud.integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from cloud.models.common import now_ts


def message_body(*, delivery_id: str, kind: str, site_id: int, created_at: int, data: dict[str, Any]) -> str:
    message = {"id": delivery_id, "kind": kind, "site_id": site_id, "created_at": created_at, "data": data}
    return json.dumps(message, separators=(",", ":"), sort_keys=True, ensure_ascii=True)


def subscribers(*, session: Session, site_id: int) -> dict[str, list[int]]:
    """kind -> ids of the site's enabled endpoints that subscribed to it (ascending)."""
    rows = session.exec(
        select(WebhookEndpoint.id, WebhookEndpoint.kinds)
        .where(WebhookEndpoint.site_id == site_id, col(WebhookEndpoint.enabled).is_(True))
        .order_by(col(WebhookEndpoint.id))
    ).all()
    by_kind: dict[str, list[int]] = {}
    for endpoint_id, kinds in rows:
        assert endpoint_id is not None
        for kind in kinds:
            by_kind.setdefault(kind, []).append(endpoint_id)
    return by_kind


def _row(*, endpoint_id: int, site_id: int, kind: str, data: dict[str, Any], now: int) -> dict[str, Any]:
    delivery_id = str(uuid.uuid4())
    return {
        "delivery_id": delivery_id,
        "endpoint_id": endpoint_id,
        "site_id": site_id,
        "kind": kind,
        "body": message_body(delivery_id=delivery_id, kind=kind, site_id=site_id, created_at=now, data=data),
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


def emit_many(*, session: Session, site_id: int, messages: Sequence[tuple[str, dict[str, Any]]]) -> int:
    """Queue each (kind, payload) for every endpoint of the site subscribed to its kind, in this order (per
    endpoint, deliveries go out in the order they were queued). Returns the number of deliveries queued."""
    unknown = [kind for kind, _ in messages if kind not in KINDS]
    if unknown:
        raise ValueError(f"unknown webhook kind {unknown[0]!r} (one of {', '.join(KINDS)})")
    if not messages:
        return 0
    by_kind = subscribers(session=session, site_id=site_id)
    now = now_ts()
    rows = [
        _row(endpoint_id=endpoint_id, site_id=site_id, kind=kind, data=payload, now=now)
        for kind, payload in messages
        for endpoint_id in by_kind.get(kind, ())
    ]
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    return len(rows)


def emit(*, session: Session, site_id: int, kind: str, payload: dict[str, Any]) -> int:
    """Queue one webhook of `kind` (cloud.integrations.webhooks.kinds) with `payload` as its data, for every
    enabled endpoint of the site subscribed to it, in the caller's transaction (nothing is committed).
    Returns the number of deliveries queued (0 when nobody subscribed). ValueError for an unknown kind."""
    return emit_many(session=session, site_id=site_id, messages=[(kind, payload)])


def queue_ping(*, session: Session, endpoint: WebhookEndpoint, data: dict[str, Any]) -> WebhookDelivery:
    """A "ping" for one endpoint only (POST /webhooks/{id}/ping), whatever it subscribed to."""
    assert endpoint.id is not None
    row = _row(endpoint_id=endpoint.id, site_id=endpoint.site_id, kind=PING, data=data, now=now_ts())
    delivery = WebhookDelivery(**row)
    session.add(delivery)
    session.flush()
    return delivery
