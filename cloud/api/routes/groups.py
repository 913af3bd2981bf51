"""/groups: CRUD and membership (PUT/DELETE /groups/{id}/members/{user_id})."""

from fastapi import APIRouter, status
from sqlmodel import Session

from cloud.api.deps import CurrentOperator, ObjectId, PageDep, SessionDep, SiteFilter, WriterOperator
from cloud.api.listing import list_visible
from cloud.auth.operator import Operator
from cloud.crud import groups as service
from cloud.crud.scope import get_visible
from cloud.models.user import (
    Group,
    GroupCreate,
    GroupPublic,
    GroupsPublic,
    GroupUpdate,
    UserPublic,
    UsersPublic,
)

router = APIRouter(prefix="/groups", tags=["groups"])


def _get(session: Session, operator: Operator, group_id: int) -> Group:
    return get_visible(session=session, model=Group, obj_id=group_id, operator=operator, entity="group")


@router.get("", response_model=GroupsPublic)
def list_groups(
    session: SessionDep, operator: CurrentOperator, paging: PageDep, site_id: SiteFilter = None
) -> GroupsPublic:
    rows, count = list_visible(
        session=session, model=Group, operator=operator, paging=paging, site_id=site_id
    )
    return GroupsPublic(data=[service.group_public(session=session, group=row) for row in rows], count=count)


@router.post("", response_model=GroupPublic, status_code=status.HTTP_201_CREATED)
def create_group(session: SessionDep, operator: WriterOperator, group_in: GroupCreate) -> GroupPublic:
    group = service.create_group(session=session, operator=operator, group_in=group_in)
    session.commit()
    return service.group_public(session=session, group=group)


@router.get("/{group_id}", response_model=GroupPublic)
def read_group(session: SessionDep, operator: CurrentOperator, group_id: ObjectId) -> GroupPublic:
    return service.group_public(session=session, group=_get(session, operator, group_id))


@router.patch("/{group_id}", response_model=GroupPublic)
def update_group(
    session: SessionDep, operator: WriterOperator, group_id: ObjectId, group_in: GroupUpdate
) -> GroupPublic:
    group = service.update_group(
        session=session, operator=operator, group=_get(session, operator, group_id), group_in=group_in
    )
    session.commit()
    return service.group_public(session=session, group=group)


@router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_group(session: SessionDep, operator: WriterOperator, group_id: ObjectId) -> None:
    service.delete_group(session=session, operator=operator, group=_get(session, operator, group_id))
    session.commit()


@router.get("/{group_id}/members", response_model=UsersPublic)
def list_members(
    session: SessionDep, operator: CurrentOperator, group_id: ObjectId, paging: PageDep
) -> UsersPublic:
    rows, count = service.list_members(
        session=session, group=_get(session, operator, group_id), offset=paging.offset, limit=paging.limit
    )
    return UsersPublic(data=[UserPublic.model_validate(row) for row in rows], count=count)


def _set_member(
    session: Session, operator: Operator, group_id: int, user_id: int, member: bool
) -> GroupPublic:
    group = _get(session, operator, group_id)
    service.set_membership(session=session, operator=operator, group=group, user_id=user_id, member=member)
    session.commit()
    return service.group_public(session=session, group=group)


@router.put("/{group_id}/members/{user_id}", response_model=GroupPublic)
def add_member(
    session: SessionDep, operator: WriterOperator, group_id: ObjectId, user_id: ObjectId
) -> GroupPublic:
    """Adds a user of the group's site (idempotent); 404 for a user this key cannot see."""
    return _set_member(session, operator, group_id, user_id, member=True)


@router.delete("/{group_id}/members/{user_id}", response_model=GroupPublic)
def remove_member(
    session: SessionDep, operator: WriterOperator, group_id: ObjectId, user_id: ObjectId
) -> GroupPublic:
    """Removes a user from the group (idempotent); 404 for a user this key cannot see."""
    return _set_member(session, operator, group_id, user_id, member=False)
