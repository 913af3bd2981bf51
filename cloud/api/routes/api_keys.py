"""/api-keys: admins issue (shown once), list and revoke operators' keys."""

from fastapi import APIRouter, status

from cloud.api.deps import AdminOperator, ObjectId, PageDep, SessionDep, SiteFilter
from cloud.api.listing import list_visible
from cloud.audit.service import record_object_change
from cloud.auth.keys import create_api_key
from cloud.crud.scope import get_visible, snapshot, target_site
from cloud.errors import Forbidden
from cloud.models.api_key import ApiKey, ApiKeyCreate, ApiKeyIssued, ApiKeyPublic, ApiKeysPublic

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.get("", response_model=ApiKeysPublic)
def list_keys(
    session: SessionDep, operator: AdminOperator, paging: PageDep, site_id: SiteFilter = None
) -> ApiKeysPublic:
    rows, count = list_visible(
        session=session, model=ApiKey, operator=operator, paging=paging, site_id=site_id
    )
    return ApiKeysPublic(data=[ApiKeyPublic.model_validate(row) for row in rows], count=count)


@router.post("", response_model=ApiKeyIssued, status_code=status.HTTP_201_CREATED)
def create_key(session: SessionDep, operator: AdminOperator, key_in: ApiKeyCreate) -> ApiKeyIssued:
    """Issues a key; the response's `key` is shown this once. Only a global admin issues global keys."""
    if key_in.site_id is None and operator.site_id is not None:
        raise Forbidden("a site admin can only issue keys for its own site")
    if key_in.site_id is not None:
        target_site(session=session, operator=operator, requested=key_in.site_id)
    record, key = create_api_key(session=session, key_in=key_in)
    record_object_change(
        session=session,
        operator=operator,
        action="create",
        entity="api_key",
        obj=record,
        after=snapshot(ApiKeyPublic, record),
    )
    session.commit()
    return ApiKeyIssued.model_validate(record, update={"key": key})


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(session: SessionDep, operator: AdminOperator, key_id: ObjectId) -> None:
    record = get_visible(session=session, model=ApiKey, obj_id=key_id, operator=operator, entity="api key")
    before = snapshot(ApiKeyPublic, record)
    record.revoked = True
    session.add(record)
    record_object_change(
        session=session,
        operator=operator,
        action="revoke",
        entity="api_key",
        obj=record,
        before=before,
        after=snapshot(ApiKeyPublic, record),
    )
    session.commit()
