"""The list endpoints' shared query: the caller's site (or ?site_id=), extra filters, one page by id."""

from typing import Any

from sqlmodel import Session

from cloud.api.deps import Pagination
from cloud.auth.operator import Operator
from cloud.crud.scope import list_scoped


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
    return list_scoped(
        session=session,
        model=model,
        operator=operator,
        site_id=site_id,
        offset=paging.offset,
        limit=paging.limit,
        filters=filters,
    )
