"""Writing and reading the audit trail. Entries join the caller's transaction: no change, no entry."""

from typing import Any

from sqlmodel import Session, col, func, select

from cloud.audit.models import AuditEntry
from cloud.auth.operator import Operator


def record_change(
    *,
    session: Session,
    operator: Operator,
    action: str,
    entity: str,
    entity_id: object,
    site_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        site_id=site_id,
        actor_kind=operator.actor_kind,
        actor_key_id=operator.key_id,
        actor_account_id=operator.account_id,
        actor=operator.name,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def record_object_change(
    *,
    session: Session,
    operator: Operator,
    action: str,
    entity: str,
    obj: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """record_change for an object that belongs to a site: the id and the site come from the object."""
    return record_change(
        session=session,
        operator=operator,
        action=action,
        entity=entity,
        entity_id=obj.id,
        site_id=obj.site_id,
        before=before,
        after=after,
    )


def list_audit(
    *,
    session: Session,
    site_id: int | None,
    entity: str | None,
    entity_id: str | None,
    offset: int,
    limit: int,
) -> tuple[list[AuditEntry], int]:
    """Newest first; site_id None = every site (global admins)."""
    query = select(AuditEntry)
    if site_id is not None:
        query = query.where(AuditEntry.site_id == site_id)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(AuditEntry.id).desc()).offset(offset).limit(limit)).all()
    return list(rows), count
