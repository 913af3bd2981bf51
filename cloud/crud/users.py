"""Users: create, update (suspending one recomputes the doors the user could reach), delete."""

from typing import Any

from sqlmodel import Session, col, or_, select

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.crud.rules import check_validity
from cloud.crud.scope import delete_with_dependents, page, scoped, snapshot, taken_in_site, target_site
from cloud.errors import Conflict
from cloud.models.credential import Credential
from cloud.models.rule import AccessRule
from cloud.models.user import GroupMember, User, UserCreate, UserPublic, UserUpdate
from cloud.permissions.service import doors_of_user, recompute_doors


def _check_external_id(
    *, session: Session, site_id: int, external_id: str | None, user_id: int | None
) -> None:
    if external_id is None:
        return
    other = taken_in_site(
        session=session, column=User.external_id, value=external_id, site_id=site_id, own_id=user_id
    )
    if other is not None:
        raise Conflict(f"external_id {external_id!r} is already used by user {other}")


VALIDITY = ("valid_from", "valid_until")


def _contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def user_search(text: str) -> Any:
    """Users whose name, email or external id contains `text` (case-insensitive for Latin letters)."""
    pattern = _contains(text.replace("\x00", ""))
    return or_(
        col(User.name).ilike(pattern, escape="\\"),
        col(User.email).ilike(pattern, escape="\\"),
        col(User.external_id).ilike(pattern, escape="\\"),
    )


def list_users(
    *,
    session: Session,
    operator: Operator,
    site_id: int | None,
    offset: int,
    limit: int,
    search: str | None = None,
    status: str | None = None,
    external_id: str | None = None,
) -> tuple[list[User], int]:
    """One page of the users the operator may see (ordered by id) and how many match in all."""
    query = scoped(select(User), User, operator, site_id)
    if search:
        query = query.where(user_search(search))
    if status is not None:
        query = query.where(User.status == status)
    if external_id is not None:
        query = query.where(User.external_id == external_id.replace("\x00", ""))
    return page(session=session, query=query, order_by=col(User.id), offset=offset, limit=limit)


def create_user(*, session: Session, operator: Operator, user_in: UserCreate) -> User:
    site = target_site(session=session, operator=operator, requested=user_in.site_id)
    assert site.id is not None
    _check_external_id(session=session, site_id=site.id, external_id=user_in.external_id, user_id=None)
    check_validity(user_in.valid_from, user_in.valid_until)
    user = User.model_validate(user_in, update={"site_id": site.id})
    session.add(user)
    session.flush()
    record_object_change(
        session=session,
        operator=operator,
        action="create",
        entity="user",
        obj=user,
        after=snapshot(UserPublic, user),
    )
    return user


def update_user(*, session: Session, operator: Operator, user: User, user_in: UserUpdate) -> User:
    before = snapshot(UserPublic, user)
    changes = user_in.model_dump(exclude_unset=True)
    for required in ("name", "status", *VALIDITY):
        if changes.get(required, "") is None:
            del changes[required]
    _check_external_id(
        session=session, site_id=user.site_id, external_id=changes.get("external_id"), user_id=user.id
    )
    check_validity(changes.get("valid_from", user.valid_from), changes.get("valid_until", user.valid_until))
    access_changed = any(
        name in changes and changes[name] != getattr(user, name) for name in ("status", *VALIDITY)
    )
    user.sqlmodel_update(changes)
    session.add(user)
    session.flush()
    if access_changed:
        assert user.id is not None
        recompute_doors(session=session, door_ids=doors_of_user(session=session, user_id=user.id))
    record_object_change(
        session=session,
        operator=operator,
        action="update",
        entity="user",
        obj=user,
        before=before,
        after=snapshot(UserPublic, user),
    )
    return user


def delete_user(*, session: Session, operator: Operator, user: User) -> None:
    """Removes the user with credentials, memberships and personal rules; recomputes their doors."""
    assert user.id is not None
    before = snapshot(UserPublic, user)
    affected = doors_of_user(session=session, user_id=user.id)
    delete_with_dependents(
        session=session,
        obj=user,
        dependents=(Credential.user_id, GroupMember.user_id, AccessRule.user_id),
    )
    recompute_doors(session=session, door_ids=affected)
    record_object_change(
        session=session,
        operator=operator,
        action="delete",
        entity="user",
        obj=user,
        before=before,
    )
