"""Time-dependent answers: who-can-enter when a night window spans a DST change or the end of the week,
keyset pagination when many events share a timestamp (and new ones arrive meanwhile), and the CSV export
returning exactly what the JSON list returns for the same filters."""

import base64
import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from cloud.timezones import LAST_TABLE_START
from shared_schema.messages import MAX_COUNTER
from tests.cloud.conftest import Api
from tests.cloud.helpers import card_hex, ingest, make_door, make_rule, make_user

SATURDAY, SUNDAY = 1 << 5, 1 << 6  # Monday = bit 0
T0 = 1_790_000_000


def _utc(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp())  # type: ignore[misc]


def test_night_windows_across_dst_changes_and_the_end_of_the_week(admin: Api) -> None:
    paris = admin.ok("POST", "/sites", 201, json={"name": "Paris", "timezone": "Europe/Paris"})
    door = make_door(admin, site_id=paris["id"])
    saturday_night = make_user(admin, "Saturday night", site_id=paris["id"], card=card_hex())
    sunday_night = make_user(admin, "Sunday night", site_id=paris["id"], card=card_hex())
    # 22:00 -> 06:00 local, starting on Saturday (ends Sunday morning) and on Sunday (ends Monday morning).
    for user, day in ((saturday_night, SATURDAY), (sunday_night, SUNDAY)):
        make_rule(
            admin, user_id=user["id"], door_id=door["id"], site_id=paris["id"], windows=[[day, 1320, 360]]
        )

    def who(ts: int) -> list[str]:
        answer = admin.ok("GET", f"/doors/{door['id']}/who-can-enter", params={"at": ts})
        return [user["name"] for user in answer["users"]]

    # Spring: Sunday 2026-03-29, 02:00 CET -> 03:00 CEST (01:00 UTC). The night is one hour shorter.
    assert who(_utc(2026, 3, 28, 21, 0)) == ["Saturday night"]  # Saturday 22:00 CET
    assert who(_utc(2026, 3, 28, 20, 59)) == []  # Saturday 21:59 CET
    assert who(_utc(2026, 3, 29, 0, 59)) == ["Saturday night"]  # 01:59 CET, just before the change
    assert who(_utc(2026, 3, 29, 1, 0)) == ["Saturday night"]  # 03:00 CEST, just after it
    assert who(_utc(2026, 3, 29, 3, 59)) == ["Saturday night"]  # 05:59 CEST
    assert who(_utc(2026, 3, 29, 4, 0)) == []  # 06:00 CEST (a fixed UTC+1 would still say 05:00)
    # Sunday's own night runs into Monday morning: the week wraps from Sunday (bit 6) to Monday.
    assert who(_utc(2026, 3, 29, 20, 0)) == ["Sunday night"]  # Sunday 22:00 CEST
    assert who(_utc(2026, 3, 30, 3, 59)) == ["Sunday night"]  # Monday 05:59 CEST
    assert who(_utc(2026, 3, 30, 4, 0)) == []
    # Autumn: Sunday 2026-10-25, 03:00 CEST -> 02:00 CET (01:00 UTC). The night is one hour longer.
    assert who(_utc(2026, 10, 24, 20, 0)) == ["Saturday night"]  # Saturday 22:00 CEST
    assert who(_utc(2026, 10, 24, 19, 59)) == []
    assert who(_utc(2026, 10, 25, 0, 30)) == ["Saturday night"]  # 02:30 CEST, the first 02:30
    assert who(_utc(2026, 10, 25, 1, 30)) == ["Saturday night"]  # 02:30 CET, the second one
    assert who(_utc(2026, 10, 25, 4, 59)) == ["Saturday night"]  # 05:59 CET (a fixed UTC+2 would say 06:59)
    assert who(_utc(2026, 10, 25, 5, 0)) == []  # 06:00 CET


def _ingest(db: Engine, door_id: int, events: list[list[Any]]) -> None:
    ingest(db, door_id, events, received_at=T0 + 86_400)


def _pages(api: Api, limit: int, between: Any = None, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.ok(
            "GET", "/events", params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        )
        assert page["count"] == len(page["data"]) <= limit
        seen += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        if between is not None:
            between()


def test_cursor_pages_are_stable_when_every_event_shares_one_timestamp(db: Engine, operator: Api) -> None:
    door = make_door(operator)
    _ingest(db, door["id"], [[seq, T0, "door_open", "", ""] for seq in range(1, 11)])
    first = _pages(operator, 3)
    assert [e["seq"] for e in first] == list(range(10, 0, -1))  # equal ts: newest id first
    # Events arriving while a client pages: newer ones (same ts, higher ids) sort before the cursor and are
    # not returned; older ones sort after it and are. Nothing is repeated, nothing already there is skipped.
    arrivals = iter(
        [
            [[11, T0, "door_open", "", ""]],
            [[12, T0 - 1, "door_open", "", ""]],
            [[13, T0, "door_open", "", ""]],
        ]
    )

    def arrive() -> None:
        batch = next(arrivals, None)
        if batch:
            _ingest(db, door["id"], batch)

    during = _pages(operator, 3, between=arrive)
    ids = [e["id"] for e in during]
    assert len(ids) == len(set(ids))
    assert [e["seq"] for e in during] == [*range(10, 0, -1), 12]
    assert [e["seq"] for e in _pages(operator, 4)] == [13, 11, *range(10, 0, -1), 12]


def test_csv_export_returns_what_the_list_returns_for_the_same_filters(db: Engine, operator: Api) -> None:
    front, back = make_door(operator, "Front"), make_door(operator, "Back")
    zone = operator.ok("POST", "/zones", 201, json={"name": "Back office", "door_ids": [back["id"]]})
    alice = make_user(operator, "Alice", card=card_hex())
    cred = alice["credential"]["cred_hash"]
    _ingest(
        db, front["id"], [[s, T0 + s // 3, "granted" if s % 2 else "denied", cred, ""] for s in range(1, 25)]
    )
    _ingest(db, back["id"], [[s, T0 + s, "granted", cred if s % 3 else "", ""] for s in range(1, 13)])
    cases: list[dict[str, Any]] = [
        {},
        {"door_id": front["id"]},
        {"zone_id": zone["id"]},
        {"user_id": alice["id"]},
        {"result": "denied"},
        {"since": T0 + 3, "until": T0 + 7},
        {
            "since": datetime.fromtimestamp(T0 + 3, UTC).isoformat(),
            "result": "granted",
            "door_id": back["id"],
        },
        {"zone_id": zone["id"], "user_id": alice["id"], "until": T0 + 9},
    ]
    for params in cases:
        listed = _pages(operator, 5, **params)
        exported = operator.get("/events/export.csv", params=params)
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [int(row["id"]) for row in rows] == [e["id"] for e in listed], params
        for row, event in zip(rows, listed, strict=True):
            assert row["cred_hash"] == event["cred_hash"] and row["result"] == event["result"]
            assert row["user_id"] == ("" if event["user_id"] is None else str(event["user_id"]))
    assert len(_pages(operator, 50)) == 36
    # Bad filters are refused the same way by both.
    for bad in ({"result": "maybe"}, {"since": "yesterday"}, {"door_id": 0}):
        assert operator.get("/events", params=bad).status_code == 422, bad
        assert operator.get("/events/export.csv", params=bad).status_code == 422, bad


def test_forged_cursors_are_422_on_both_databases(operator: Api) -> None:
    for raw in (f"{10**30}:1", f"1:{10**30}", "1:2:3", "-5:-5", "\u0663:1", " 1:2", "ts:id"):
        forged = base64.urlsafe_b64encode(raw.encode()).decode()
        response = operator.get("/events", params={"cursor": forged})
        assert response.status_code == 422, (raw, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", "cursor"]
    for junk in ("garbage!", "%%%", "AAAA"):
        assert operator.get("/events", params={"cursor": junk}).status_code == 422, junk


def test_csv_export_defuses_spreadsheet_formulas_from_the_locks(db: Engine, operator: Api) -> None:
    door = make_door(operator)
    reasons = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx", "plain"]
    _ingest(db, door["id"], [[seq, T0 + seq, "denied", "", reason] for seq, reason in enumerate(reasons, 1)])
    rows = list(csv.DictReader(io.StringIO(operator.get("/events/export.csv").text)))
    assert [row["reason"] for row in reversed(rows)] == ["'" + r for r in reasons[:-1]] + ["plain"]
    # The JSON list keeps the stored text as it is.
    assert [e["reason"] for e in reversed(_pages(operator, 50))] == reasons


def test_who_can_enter_answers_up_to_year_9999_and_refuses_later(admin: Api) -> None:
    paris = admin.ok("POST", "/sites", 201, json={"name": "Paris", "timezone": "Europe/Paris"})
    door = make_door(admin, site_id=paris["id"])
    user = make_user(admin, "Alice", site_id=paris["id"], card=card_hex())
    make_rule(admin, user_id=user["id"], door_id=door["id"], site_id=paris["id"], windows=[[127, 0, 1440]])
    path = f"/doors/{door['id']}/who-can-enter"
    for at in (0, LAST_TABLE_START, "9999-05-31T12:00:00Z"):
        assert admin.ok("GET", path, params={"at": at})["count"] == 1, at
    for at in (LAST_TABLE_START + 1, 253_402_300_799, 10**12, MAX_COUNTER, "9999-12-31T23:59:59Z"):
        response = admin.get(path, params={"at": at})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "at"], at
