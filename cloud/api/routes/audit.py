"""/audit: every operator change, newest first."""

from typing import Annotated

from fastapi import APIRouter, Query

from cloud.api.deps import CurrentOperator, PageDep, SessionDep, SiteFilter
from cloud.audit.models import AuditEntriesPublic, AuditEntryPublic
from cloud.audit.service import list_audit

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditEntriesPublic)
def read_audit(
    session: SessionDep,
    operator: CurrentOperator,
    paging: PageDep,
    site_id: SiteFilter = None,
    entity: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")] = None,
    entity_id: Annotated[str | None, Query(max_length=64, pattern=r"^[0-9a-f-]+$")] = None,
) -> AuditEntriesPublic:
    scope = operator.site_id if operator.site_id is not None else site_id
    rows, count = list_audit(
        session=session,
        site_id=scope,
        entity=entity,
        entity_id=entity_id,
        offset=paging.offset,
        limit=paging.limit,
    )
    return AuditEntriesPublic(data=[AuditEntryPublic.model_validate(row) for row in rows], count=count)
