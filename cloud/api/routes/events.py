"""/events: filtered, cursor-paginated access events, and the same query as CSV."""

import csv
import io
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine
from sqlmodel import Session

from cloud.api.deps import CurrentOperator, Instant, SessionDep, to_unix
from cloud.auth.operator import Operator
from cloud.csvcells import spreadsheet_safe
from cloud.events.models import EventPublic, EventResult, EventsPublic
from cloud.events.service import CSV_COLUMNS, EventFilter, iter_events, list_events
from shared_schema.messages import MAX_COUNTER

router = APIRouter(prefix="/events", tags=["events"])

IdFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class EventQuery:
    """The filters shared by the JSON list and the CSV export."""

    def __init__(
        self,
        door_id: IdFilter = None,
        zone_id: IdFilter = None,
        user_id: IdFilter = None,
        result: EventResult | None = None,
        since: Annotated[Instant | None, Query()] = None,
        until: Annotated[Instant | None, Query()] = None,
        site_id: IdFilter = None,
    ) -> None:
        self.door_id, self.zone_id, self.user_id, self.result = door_id, zone_id, user_id, result
        self.since, self.until, self.site_id = since, until, site_id

    def filters(self, operator: Operator) -> EventFilter:
        return EventFilter(
            site_id=operator.site_id if operator.site_id is not None else self.site_id,
            door_id=self.door_id,
            zone_id=self.zone_id,
            user_id=self.user_id,
            result=self.result,
            since=to_unix(self.since, "since"),
            until=to_unix(self.until, "until"),
        )


EventQueryDep = Annotated[EventQuery, Depends()]


@router.get("", response_model=EventsPublic)
def read_events(
    request: Request,
    session: SessionDep,
    operator: CurrentOperator,
    query: EventQueryDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_COUNTER)] = None,
) -> EventsPublic:
    """Newest first (ts, then id). count is the number of events in this page; follow next_cursor."""
    settings = request.app.state.settings
    size = min(limit or settings.default_page_size, settings.max_page_size)
    rows, next_cursor = list_events(
        session=session, filters=query.filters(operator), cursor=cursor, limit=size
    )
    return EventsPublic(
        data=[EventPublic.model_validate(row) for row in rows], count=len(rows), next_cursor=next_cursor
    )


def _csv_lines(engine: Engine, filters: EventFilter) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    # Its own session: the response streams after the request's session has closed.
    with Session(engine) as session:
        for count, event in enumerate(iter_events(session=session, filters=filters), 1):
            # The reason text comes from the locks: no cell may start a spreadsheet formula.
            writer.writerow([spreadsheet_safe(getattr(event, column)) for column in CSV_COLUMNS])
            if count % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The matching events as CSV"}},
)
def export_events(request: Request, operator: CurrentOperator, query: EventQueryDep) -> StreamingResponse:
    """Every event matching the same filters as GET /events, newest first, as CSV (streamed)."""
    filters = query.filters(operator)
    return StreamingResponse(
        _csv_lines(request.app.state.engine, filters),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="events.csv"'},
    )
