"""The list endpoints' shared query: the caller's site (or ?site_id=), extra filters, one page by id."""

from typing import Any

from sqlmodel import Session, col, select

from cloud.api.deps import Pagination
from cloud.auth.operator import Operator
from cloud.crud.scope import page, scoped


def list_visible(
    *,
    session: Session,
    model: Any,
    operator: Operator,
    paging: Pagination,
    site_id: int | None,
    filters: tuple[Any, ...] = (),
) -> tuple[list[Any], int]:
    """One page of `model` rows the caller may see, ordered by id, and how many match in all."""
    query = scoped(select(model), model, operator, site_id)
    for condition in filters:
        query = query.where(condition)
    return page(
        session=session, query=query, order_by=col(model.id), offset=paging.offset, limit=paging.limit
    )
