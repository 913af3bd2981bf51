"""Groups: list, create, a group's members (paged), add a member found by search, remove one."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError
from sqlmodel import Session

from cloud.api.deps import ObjectId, SessionDep
from cloud.console.context import Console, SignedIn, WriterPost
from cloud.console.forms import MAX_PAGE, Pager, field_errors
from cloud.console.templating import redirect, render
from cloud.crud import groups as service
from cloud.crud.scope import get_visible, list_scoped
from cloud.crud.users import list_users
from cloud.errors import ServiceError
from cloud.models.user import Group, GroupCreate, User

router = APIRouter(prefix="/groups")

PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
SEARCH_RESULTS = 10


def _groups_page(
    console: Console,
    session: Session,
    *,
    page: int = 1,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    site = console.need_site()
    size = console.settings.console_page_size
    rows, total = list_scoped(
        session=session,
        model=Group,
        operator=console.operator,
        site_id=site.id,
        offset=(page - 1) * size,
        limit=size,
    )
    return render(
        console,
        "groups.html",
        status=status,
        groups=[service.group_public(session=session, group=group) for group in rows],
        pager=Pager(page, size, total),
        form=form or {},
        errors=errors or {},
        problem=problem,
    )


@router.get("")
def list_groups(console: SignedIn, session: SessionDep, page: PageNumber = 1) -> Response:
    return _groups_page(console, session, page=page)


@router.post("")
def create_group(posted: WriterPost, session: SessionDep) -> Response:
    console = posted.console
    site = console.need_site()
    form = {"name": posted.text("name"), "description": posted.text("description")}
    try:
        group_in = GroupCreate(name=form["name"], description=form["description"], site_id=site.id)
        group = service.create_group(session=session, operator=console.operator, group_in=group_in)
        session.commit()
    except ValidationError as error:
        return _groups_page(console, session, form=form, errors=field_errors(error, console.t), status=422)
    except ServiceError as error:
        session.rollback()
        return _groups_page(console, session, form=form, problem=str(error), status=409)
    return redirect(console, f"/groups/{group.id}?done=group.created")


def _group(console: Console, session: Session, group_id: int) -> Group:
    return get_visible(
        session=session, model=Group, obj_id=group_id, operator=console.operator, entity="group"
    )


@router.get("/{group_id}")
def show_group(
    console: SignedIn,
    session: SessionDep,
    group_id: ObjectId,
    page: PageNumber = 1,
    q: Annotated[str, Query(max_length=200)] = "",
    done: str = "",
) -> Response:
    group = _group(console, session, group_id)
    size = console.settings.console_page_size
    members, total = service.list_members(session=session, group=group, offset=(page - 1) * size, limit=size)
    found: list[User] = []
    if q.strip():
        found, _ = list_users(
            session=session,
            operator=console.operator,
            site_id=group.site_id,
            offset=0,
            limit=SEARCH_RESULTS,
            search=q.strip(),
        )
    member_ids = service.member_ids(session=session, group=group, user_ids=[user.id for user in found])
    return render(
        console,
        "group.html",
        group=service.group_public(session=session, group=group),
        members=members,
        pager=Pager(page, size, total),
        q=q.strip(),
        found=found,
        member_ids=member_ids,
        done=done if done in ("group.created", "group.member_added", "group.member_removed") else "",
    )


def _set_member(posted: WriterPost, session: Session, group_id: int, member: bool) -> Response:
    console = posted.console
    group = _group(console, session, group_id)
    user_id = posted.text("user_id")
    if not user_id.isdigit() or not 1 <= int(user_id) <= 2**31 - 1:
        return redirect(console, f"/groups/{group_id}")
    service.set_membership(
        session=session, operator=console.operator, group=group, user_id=int(user_id), member=member
    )
    session.commit()
    done = "group.member_added" if member else "group.member_removed"
    return redirect(console, f"/groups/{group_id}?done={done}")


@router.post("/{group_id}/members")
def add_member(posted: WriterPost, session: SessionDep, group_id: ObjectId) -> Response:
    return _set_member(posted, session, group_id, member=True)


@router.post("/{group_id}/members/remove")
def remove_member(posted: WriterPost, session: SessionDep, group_id: ObjectId) -> Response:
    return _set_member(posted, session, group_id, member=False)
