"""The dashboard: the site's doors with their status fields as stored (online, last seen, permission
version applied by the lock vs current, firmware), and counts of people."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import func, select

from cloud.api.deps import SessionDep
from cloud.console.context import SignedIn
from cloud.console.forms import MAX_PAGE, Pager
from cloud.console.templating import render
from cloud.crud.doors import door_public
from cloud.crud.scope import list_scoped
from cloud.models.door import Door
from cloud.models.user import User

router = APIRouter()


@router.get("/")
def dashboard(
    console: SignedIn, session: SessionDep, page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1
) -> Response:
    if console.site is None:
        return render(console, "dashboard.html", doors=[], pager=None, people={})
    size = console.settings.console_page_size
    rows, total = list_scoped(
        session=session,
        model=Door,
        operator=console.operator,
        site_id=console.site.id,
        offset=(page - 1) * size,
        limit=size,
    )
    doors = [door_public(session=session, door=door) for door in rows]
    counts = session.exec(
        select(User.status, func.count()).where(User.site_id == console.site.id).group_by(User.status)
    ).all()
    return render(console, "dashboard.html", doors=doors, pager=Pager(page, size, total), people=dict(counts))
