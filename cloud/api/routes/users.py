"""/users: CRUD. Suspending a user (status) closes every door to them at once."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from cloud.api.deps import CurrentOperator, ObjectId, PageDep, SessionDep, SiteFilter, WriterOperator
from cloud.crud import users as service
from cloud.crud.scope import get_visible
from cloud.models.user import User, UserCreate, UserPublic, UsersPublic, UserStatus, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=UsersPublic)
def list_users(
    session: SessionDep,
    operator: CurrentOperator,
    paging: PageDep,
    site_id: SiteFilter = None,
    status_filter: Annotated[UserStatus | None, Query(alias="status")] = None,
    external_id: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200, description="name, email or external id contains")] = None,
) -> UsersPublic:
    rows, count = service.list_users(
        session=session,
        operator=operator,
        site_id=site_id,
        offset=paging.offset,
        limit=paging.limit,
        search=q,
        status=status_filter,
        external_id=external_id,
    )
    return UsersPublic(data=[UserPublic.model_validate(row) for row in rows], count=count)


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def create_user(session: SessionDep, operator: WriterOperator, user_in: UserCreate) -> User:
    user = service.create_user(session=session, operator=operator, user_in=user_in)
    session.commit()
    return user


@router.get("/{user_id}", response_model=UserPublic)
def read_user(session: SessionDep, operator: CurrentOperator, user_id: ObjectId) -> User:
    return get_visible(session=session, model=User, obj_id=user_id, operator=operator, entity="user")


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(
    session: SessionDep, operator: WriterOperator, user_id: ObjectId, user_in: UserUpdate
) -> User:
    user = get_visible(session=session, model=User, obj_id=user_id, operator=operator, entity="user")
    service.update_user(session=session, operator=operator, user=user, user_in=user_in)
    session.commit()
    return user


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(session: SessionDep, operator: WriterOperator, user_id: ObjectId) -> None:
    user = get_visible(session=session, model=User, obj_id=user_id, operator=operator, entity="user")
    service.delete_user(session=session, operator=operator, user=user)
    session.commit()
