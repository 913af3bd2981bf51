"""Site scoping shared by every service: what a caller may see, and which site a new object joins."""

from typing import Any, TypeVar, cast

from sqlmodel import Session, SQLModel, func, select

from cloud.auth.operator import Operator
from cloud.errors import Invalid, NotFound
from cloud.models.site import Site

T = TypeVar("T", bound=SQLModel)


def _site_of(obj: Any) -> int | None:
    return cast(int | None, obj.site_id)


def get_visible(*, session: Session, model: type[T], obj_id: Any, operator: Operator, entity: str) -> T:
    """The object, or NotFound if it does not exist or belongs to a site the caller cannot see."""
    obj = session.get(model, obj_id)
    if obj is None or not operator.sees(_site_of(obj)):
        raise NotFound(entity, obj_id)
    return obj


def get_in_site(*, session: Session, model: type[T], obj_id: int, site_id: int, field: str, entity: str) -> T:
    """An object a request body refers to; it must belong to the same site (422 otherwise)."""
    obj = session.get(model, obj_id)
    if obj is None or _site_of(obj) != site_id:
        raise Invalid(field, f"no {entity} {obj_id} in site {site_id}")
    return obj


def target_site(*, session: Session, operator: Operator, requested: int | None) -> Site:
    """The site a new object belongs to: the key's own site, or the one a global key names."""
    if operator.site_id is not None:
        if requested is not None and requested != operator.site_id:
            raise Invalid("site_id", f"no site {requested}")
        requested = operator.site_id
    if requested is None:
        raise Invalid("site_id", "site_id is required with a key that is not bound to a site")
    site = session.get(Site, requested)
    if site is None:
        raise Invalid("site_id", f"no site {requested}")
    return site


def scoped(query: Any, model: Any, operator: Operator, site_id: int | None) -> Any:
    """Restrict a list query to the caller's site, or to ?site_id= for a global key."""
    if operator.site_id is not None:
        return query.where(model.site_id == operator.site_id)
    if site_id is not None:
        return query.where(model.site_id == site_id)
    return query


def page(*, session: Session, query: Any, order_by: Any, offset: int, limit: int) -> tuple[list[Any], int]:
    """One page of a query in a stable order (a column or a tuple of columns), and the total count."""
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    ordering = order_by if isinstance(order_by, tuple) else (order_by,)
    rows = session.exec(query.order_by(*ordering).offset(offset).limit(limit)).all()
    return list(rows), count


def list_scoped(
    *,
    session: Session,
    model: Any,
    operator: Operator,
    site_id: int | None,
    offset: int,
    limit: int,
    filters: tuple[Any, ...] = (),
) -> tuple[list[Any], int]:
    """One page of `model` rows the caller may see (its site, or ?site_id= for a global caller), ordered
    by id, and how many match in all."""
    query = scoped(select(model), model, operator, site_id)
    for condition in filters:
        query = query.where(condition)
    return page(session=session, query=query, order_by=model.id, offset=offset, limit=limit)


def taken_in_site(
    *, session: Session, column: Any, value: Any, site_id: int, own_id: int | None
) -> int | None:
    """The id of another object of the site whose `column` (e.g. User.external_id) already holds value."""
    model = column.class_
    query = select(model.id).where(model.site_id == site_id, column == value)
    other = session.exec(query).first()
    return None if other == own_id else cast(int | None, other)


def delete_with_dependents(*, session: Session, obj: Any, dependents: tuple[Any, ...]) -> None:
    """Delete the rows that point at obj (each column in `dependents`, e.g. Credential.user_id, equal to
    obj.id), then obj itself. Flushes."""
    for column in dependents:
        for row in session.exec(select(column.class_).where(column == obj.id)).all():
            session.delete(row)
    session.flush()
    session.delete(obj)
    session.flush()


def snapshot(model: type[SQLModel], obj: Any, **extra: Any) -> dict[str, Any]:
    """The public view of an object as JSON-ready data, for the audit trail (no secrets)."""
    return model.model_validate(obj, update=extra).model_dump(mode="json")
