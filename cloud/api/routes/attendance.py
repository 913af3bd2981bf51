"""/attendance: per person per working day in the site's timezone, as JSON or CSV (docs/INTEGRATIONS.md)."""

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine
from sqlmodel import Session

from cloud.api.deps import CurrentOperator, SessionDep, SiteFilter
from cloud.crud.scope import target_site
from cloud.errors import Invalid
from cloud.integrations.attendance.models import AttendancePublic
from cloud.integrations.attendance.service import attendance, csv_lines
from cloud.models.site import Site

router = APIRouter(prefix="/attendance", tags=["attendance"])

IdFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class AttendanceQuery:
    """from..to (inclusive working days, YYYY-MM-DD), optionally one person; a global key names the site."""

    def __init__(
        self,
        first: Annotated[date, Query(alias="from", description="first working day, YYYY-MM-DD")],
        last: Annotated[date, Query(alias="to", description="last working day (inclusive)")],
        user_id: IdFilter = None,
        site_id: SiteFilter = None,
    ) -> None:
        self.first, self.last, self.user_id, self.site_id = first, last, user_id, site_id

    def site(self, session: Session, operator: CurrentOperator, max_days: int) -> Site:
        if self.last < self.first:
            raise Invalid("to", "to must not be before from", location="query")
        if (self.last - self.first).days + 1 > max_days:
            raise Invalid("to", f"at most {max_days} days at once", location="query")
        try:
            return target_site(session=session, operator=operator, requested=self.site_id)
        except Invalid as error:
            raise Invalid("site_id", error.message, location="query") from None


AttendanceQueryDep = Annotated[AttendanceQuery, Depends()]


@router.get("", response_model=AttendancePublic)
def read_attendance(
    request: Request, session: SessionDep, operator: CurrentOperator, query: AttendanceQueryDep
) -> AttendancePublic:
    """Per person and working day: first entry, last exit (exit readers) or last seen, doors, and whether a
    gap in a lock's log makes the day incomplete. Days run from the site's day_boundary_minute."""
    site = query.site(session, operator, request.app.state.settings.attendance_max_days)
    return attendance(session=session, site=site, first=query.first, last=query.last, user_id=query.user_id)


def _stream(engine: Engine, site_id: int, query: AttendanceQuery) -> Iterator[str]:
    # Its own session: the response streams after the request's session has closed.
    with Session(engine) as session:
        site = session.get(Site, site_id)
        assert site is not None
        yield from csv_lines(
            session=session, site=site, first=query.first, last=query.last, user_id=query.user_id
        )


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "Attendance as CSV"}},
)
def export_attendance(
    request: Request, session: SessionDep, operator: CurrentOperator, query: AttendanceQueryDep
) -> StreamingResponse:
    """The same as GET /attendance, as CSV, streamed a day at a time (longer ranges allowed)."""
    site = query.site(session, operator, request.app.state.settings.attendance_export_max_days)
    assert site.id is not None
    return StreamingResponse(
        _stream(request.app.state.engine, site.id, query),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="attendance.csv"'},
    )
