"""/webhooks: administrators register endpoints (the signing secret appears once), watch their deliveries
and each attempt, and send a ping. Webhooks carry the site's entry log out: admin keys only."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlmodel import Session

from cloud.api.deps import AdminOperator, ObjectId, PageDep, SessionDep, SiteFilter
from cloud.api.listing import list_visible
from cloud.auth.operator import Operator
from cloud.crud.scope import get_visible
from cloud.integrations.webhooks import service
from cloud.integrations.webhooks.models import (
    DeliveryStatus,
    WebhookDeliveriesPublic,
    WebhookDeliveryDetail,
    WebhookDeliveryPublic,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointPublic,
    WebhookEndpointsPublic,
    WebhookEndpointUpdate,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def _endpoint(session: Session, operator: Operator, webhook_id: int) -> WebhookEndpoint:
    return get_visible(
        session=session, model=WebhookEndpoint, obj_id=webhook_id, operator=operator, entity="webhook"
    )


@router.get("", response_model=WebhookEndpointsPublic)
def list_webhooks(
    session: SessionDep, operator: AdminOperator, paging: PageDep, site_id: SiteFilter = None
) -> WebhookEndpointsPublic:
    rows, count = list_visible(
        session=session, model=WebhookEndpoint, operator=operator, paging=paging, site_id=site_id
    )
    return WebhookEndpointsPublic(
        data=[service.endpoint_public(session=session, endpoint=row) for row in rows], count=count
    )


@router.post("", response_model=WebhookEndpointCreated, status_code=status.HTTP_201_CREATED)
def create_webhook(
    request: Request, session: SessionDep, operator: AdminOperator, endpoint_in: WebhookEndpointCreate
) -> WebhookEndpointCreated:
    """Registers an endpoint for the listed kinds. `secret` signs every delivery and is shown this once."""
    endpoint, secret = service.create_endpoint(
        session=session, operator=operator, settings=request.app.state.settings, endpoint_in=endpoint_in
    )
    session.commit()
    public = service.endpoint_public(session=session, endpoint=endpoint)
    return WebhookEndpointCreated.model_validate(public, update={"secret": secret})


@router.get("/{webhook_id}", response_model=WebhookEndpointPublic)
def read_webhook(session: SessionDep, operator: AdminOperator, webhook_id: ObjectId) -> WebhookEndpointPublic:
    endpoint = _endpoint(session, operator, webhook_id)
    return service.endpoint_public(session=session, endpoint=endpoint)


@router.patch("/{webhook_id}", response_model=WebhookEndpointPublic)
def update_webhook(
    request: Request,
    session: SessionDep,
    operator: AdminOperator,
    webhook_id: ObjectId,
    endpoint_in: WebhookEndpointUpdate,
) -> WebhookEndpointPublic:
    endpoint = _endpoint(session, operator, webhook_id)
    service.update_endpoint(
        session=session,
        operator=operator,
        settings=request.app.state.settings,
        endpoint=endpoint,
        endpoint_in=endpoint_in,
    )
    session.commit()
    return service.endpoint_public(session=session, endpoint=endpoint)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(session: SessionDep, operator: AdminOperator, webhook_id: ObjectId) -> None:
    """Removes the endpoint and its deliveries, sent or not."""
    endpoint = _endpoint(session, operator, webhook_id)
    service.delete_endpoint(session=session, operator=operator, endpoint=endpoint)
    session.commit()


@router.post("/{webhook_id}/ping", response_model=WebhookDeliveryPublic, status_code=status.HTTP_202_ACCEPTED)
def ping_webhook(session: SessionDep, operator: AdminOperator, webhook_id: ObjectId) -> WebhookDeliveryPublic:
    """Queues a `ping` delivery to this endpoint (after those already queued)."""
    endpoint = _endpoint(session, operator, webhook_id)
    delivery = service.ping_endpoint(session=session, operator=operator, endpoint=endpoint)
    session.commit()
    return WebhookDeliveryPublic.model_validate(delivery)


@router.get("/{webhook_id}/deliveries", response_model=WebhookDeliveriesPublic)
def list_deliveries(
    session: SessionDep,
    operator: AdminOperator,
    webhook_id: ObjectId,
    paging: PageDep,
    status_filter: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
) -> WebhookDeliveriesPublic:
    """The endpoint's deliveries, newest first, with their attempt count and last result."""
    endpoint = _endpoint(session, operator, webhook_id)
    rows, count = service.list_deliveries(
        session=session, endpoint=endpoint, status=status_filter, offset=paging.offset, limit=paging.limit
    )
    return WebhookDeliveriesPublic(
        data=[WebhookDeliveryPublic.model_validate(row) for row in rows], count=count
    )


@router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=WebhookDeliveryDetail)
def read_delivery(
    session: SessionDep, operator: AdminOperator, webhook_id: ObjectId, delivery_id: ObjectId
) -> WebhookDeliveryDetail:
    """One delivery with every attempt (time, HTTP status or error, duration)."""
    endpoint = _endpoint(session, operator, webhook_id)
    return service.delivery_detail(session=session, endpoint=endpoint, delivery_id=delivery_id)
