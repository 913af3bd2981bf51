"""The entry log: GET /events with its filters (door, zone, person, result, time range in the site's
timezone), newest first, paged with the same cursor."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlmodel import Session, col, select

from cloud.api.deps import SessionDep
from cloud.console.context import SignedIn
from cloud.console.templating import render
from cloud.console.timefmt import parse_local
from cloud.events.service import EventFilter, list_events
from cloud.models.door import Door
from cloud.models.user import User
from cloud.models.zone import Zone

router = APIRouter(prefix="/entries")

IdFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
LocalTime = Annotated[str, Query(max_length=32)]
MAX_OPTIONS = 500  # doors and zones offered in the filter menus


def _names(
    session: Session, model: type[Door] | type[Zone] | type[User], site_id: int, only: set[int] | None = None
) -> dict[int, str]:
    """{id: name} of the site's doors, zones or people (people: only those on the page)."""
    query = select(model.id, model.name).where(model.site_id == site_id)
    if only is not None:
        query = query.where(col(model.id).in_(only))
    rows = session.exec(query.order_by(col(model.name)).limit(MAX_OPTIONS)).all()
    return {row_id: name for row_id, name in rows if row_id is not None}


@router.get("")
def entry_log(
    console: SignedIn,
    session: SessionDep,
    door_id: IdFilter = None,
    zone_id: IdFilter = None,
    user_id: IdFilter = None,
    result: Literal["", "granted", "denied", "info"] = "",
    since: LocalTime = "",
    until: LocalTime = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    site = console.need_site()
    assert site.id is not None
    errors: dict[str, str] = {}
    bounds: dict[str, int | None] = {"since": None, "until": None}
    for name, text in (("since", since), ("until", until)):
        if text:
            try:
                bounds[name] = parse_local(text, site.timezone)
            except ValueError:
                errors[name] = console.t("form.invalid_time")
    filters = EventFilter(
        site_id=site.id,
        door_id=door_id,
        zone_id=zone_id,
        user_id=user_id,
        result=result or None,
        since=bounds["since"],
        until=bounds["until"],
    )
    rows, next_cursor = (
        ([], None)
        if errors
        else list_events(
            session=session, filters=filters, cursor=cursor, limit=console.settings.console_page_size
        )
    )
    user_ids = {row.user_id for row in rows if row.user_id is not None} | ({user_id} if user_id else set())
    return render(
        console,
        "entries.html",
        events=rows,
        next_cursor=next_cursor,
        doors=_names(session, Door, site.id),
        zones=_names(session, Zone, site.id),
        people=_names(session, User, site.id, user_ids),
        chosen={"door_id": door_id, "zone_id": zone_id, "user_id": user_id, "result": result},
        since=since,
        until=until,
        errors=errors,
        paged=cursor is not None,
    )
