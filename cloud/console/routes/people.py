"""People: list with search and paging, add, a person's page, suspend and reactivate."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from cloud.api.deps import ObjectId, SessionDep
from cloud.console.context import Console, SignedIn, WriterPost
from cloud.console.forms import MAX_PAGE, Pager, field_errors, optional
from cloud.console.templating import redirect, render
from cloud.crud import users as service
from cloud.crud.credentials import credential_public
from cloud.crud.groups import groups_of_user
from cloud.crud.scope import get_visible
from cloud.errors import ServiceError
from cloud.models.credential import Credential
from cloud.models.user import User, UserCreate, UserUpdate

router = APIRouter(prefix="/people")

Search = Annotated[str, Query(max_length=200)]
StatusFilter = Annotated[Literal["", "active", "suspended"], Query()]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def _people_page(
    console: Console,
    session: Session,
    *,
    q: str = "",
    status_filter: str = "",
    page: int = 1,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    site = console.need_site()
    size = console.settings.console_page_size
    rows, total = service.list_users(
        session=session,
        operator=console.operator,
        site_id=site.id,
        offset=(page - 1) * size,
        limit=size,
        search=q or None,
        status=status_filter or None,
    )
    return render(
        console,
        "people.html",
        status=status,
        people=rows,
        pager=Pager(page, size, total),
        q=q,
        status_filter=status_filter,
        form=form or {},
        errors=errors or {},
        problem=problem,
    )


@router.get("")
def list_people(
    console: SignedIn, session: SessionDep, q: Search = "", status: StatusFilter = "", page: PageNumber = 1
) -> Response:
    return _people_page(console, session, q=q.strip(), status_filter=status, page=page)


@router.post("")
def add_person(posted: WriterPost, session: SessionDep) -> Response:
    console = posted.console
    site = console.need_site()
    form = {name: posted.text(name) for name in ("name", "email", "external_id")}
    try:
        user_in = UserCreate(
            name=form["name"],
            email=optional(form["email"]),
            external_id=optional(form["external_id"]),
            site_id=site.id,
        )
        user = service.create_user(session=session, operator=console.operator, user_in=user_in)
        session.commit()
    except ValidationError as error:
        errors = field_errors(error, console.t)
        return _people_page(console, session, form=form, errors=errors, status=422)
    except ServiceError as error:
        session.rollback()
        return _people_page(console, session, form=form, problem=str(error), status=409)
    return redirect(console, f"/people/{user.id}?done=person.added")


def _person(console: Console, session: Session, user_id: int) -> User:
    user = get_visible(session=session, model=User, obj_id=user_id, operator=console.operator, entity="user")
    return user


@router.get("/{user_id}")
def show_person(console: SignedIn, session: SessionDep, user_id: ObjectId, done: str = "") -> Response:
    user = _person(console, session, user_id)
    assert user.id is not None
    credentials = session.exec(
        select(Credential).where(Credential.user_id == user.id).order_by(col(Credential.id))
    ).all()
    return render(
        console,
        "person.html",
        person=user,
        groups=groups_of_user(session=session, user_id=user.id),
        credentials=[credential_public(credential) for credential in credentials],
        done=done if done in ("person.added", "person.suspended", "person.reactivated") else "",
    )


@router.post("/{user_id}/status")
def set_status(posted: WriterPost, session: SessionDep, user_id: ObjectId) -> Response:
    """Suspend (opens nothing any more, at once) or reactivate, through the same function as PATCH /users."""
    console = posted.console
    user = _person(console, session, user_id)
    wanted = posted.text("status")
    if wanted not in ("active", "suspended"):
        return redirect(console, f"/people/{user_id}")
    change = UserUpdate(status="suspended" if wanted == "suspended" else "active")
    service.update_user(session=session, operator=console.operator, user=user, user_in=change)
    session.commit()
    done = "person.suspended" if wanted == "suspended" else "person.reactivated"
    return redirect(console, f"/people/{user_id}?done={done}")
