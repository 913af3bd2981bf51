"""GET /attendance and its CSV: per person per working day in the site's timezone, from its day boundary."""

import csv
import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from cloud.events.gaps import record_gap
from cloud.events.recorded import record_cloud_event
from cloud.integrations.attendance.service import day_window
from cloud.models.door import Door
from cloud.models.site import Site
from tests.cloud.conftest import Api, issue_key
from tests.cloud.helpers import card_hex, ingest, make_door, make_user

TOKYO = ZoneInfo("Asia/Tokyo")
Setup = dict[str, Any]


def jst(day: int, hour: int, minute: int = 0) -> int:
    """Unix seconds of 2026-12-<day> hour:minute in Tokyo."""
    return int(datetime(2026, 12, day, hour, minute, tzinfo=TOKYO).timestamp())


@pytest.fixture
def office(admin: Api, db: Engine, site: dict[str, Any]) -> Setup:
    """A Tokyo site whose working day starts at 05:00, an entrance, a lab and an exit reader, and a week."""
    admin.ok("PATCH", f"/sites/{site['id']}", json={"day_boundary_minute": 300})
    entrance = make_door(admin, "Entrance", site_id=site["id"])
    lab = make_door(admin, "Lab", site_id=site["id"])
    exit_reader = make_door(admin, "Exit reader", site_id=site["id"], direction="out")
    alice = make_user(admin, "Alice", site_id=site["id"], external_id="A-1", card=card_hex())
    bob = make_user(admin, "=HYPERLINK(1)", site_id=site["id"], external_id="B-2", card=card_hex())
    alice_card, bob_card = alice["credential"]["cred_hash"], bob["credential"]["cred_hash"]
    ingest(
        db,
        entrance["id"],
        [[1, jst(1, 8, 55), "granted", alice_card, "ok"], [2, jst(1, 22), "granted", bob_card, "ok"]],
    )
    ingest(
        db,
        lab["id"],
        [
            [1, jst(1, 12), "granted", alice_card, "ok"],
            [2, jst(1, 12, 5), "denied", bob_card, "outside_schedule"],
            [3, jst(2, 9), "granted", bob_card, "face_required"],  # a held card: not an entry
            [4, 0, "granted", alice_card, "ok"],  # the lock's clock was not set: received at 2nd 10:00
        ],
        received_at=jst(2, 10),
    )
    ingest(
        db,
        exit_reader["id"],
        [[1, jst(1, 18, 2), "granted", alice_card, "ok"], [2, jst(2, 3, 30), "granted", bob_card, "ok"]],
    )
    return {"site": site, "entrance": entrance, "lab": lab, "exit": exit_reader, "alice": alice, "bob": bob}


def _days(admin: Api, first: str, last: str, **params: Any) -> dict[str, Any]:
    return admin.ok("GET", "/attendance", params={"from": first, "to": last, **params})


def test_first_entry_last_exit_and_a_night_shift_as_one_working_day(admin: Api, office: Setup) -> None:
    answer = _days(admin, "2026-12-01", "2026-12-02", site_id=office["site"]["id"])
    assert answer["timezone"] == "Asia/Tokyo" and answer["day_boundary_minute"] == 300
    rows = {(row["date"], row["external_id"]): row for row in answer["data"]}
    assert set(rows) == {("2026-12-01", "A-1"), ("2026-12-01", "B-2"), ("2026-12-02", "A-1")}
    alice = rows[("2026-12-01", "A-1")]
    assert alice["first_entry"] == jst(1, 8, 55) and alice["first_entry_local"] == "2026-12-01T08:55:00+09:00"
    assert alice["last_exit"] == jst(1, 18, 2) and alice["last_seen"] == jst(1, 18, 2)
    assert alice["doors"] == sorted([office["entrance"]["id"], office["lab"]["id"], office["exit"]["id"]])
    assert alice["entries"] == 3 and not alice["incomplete"] and not alice["clock_unset"]
    night = rows[("2026-12-01", "B-2")]  # 22:00 to 03:30 the next morning, before the 05:00 boundary
    assert (night["first_entry"], night["last_exit"], night["entries"]) == (jst(1, 22), jst(2, 3, 30), 2)
    late = rows[("2026-12-02", "A-1")]
    assert late["clock_unset"] and late["last_seen"] == jst(2, 10) and late["last_exit"] is None
    admin.ok("PATCH", f"/sites/{office['site']['id']}", json={"day_boundary_minute": 0})
    split = _days(
        admin, "2026-12-01", "2026-12-02", site_id=office["site"]["id"], user_id=office["bob"]["id"]
    )
    assert [(r["date"], r["first_entry"], r["last_exit"]) for r in split["data"]] == [
        ("2026-12-01", jst(1, 22), None),
        ("2026-12-02", None, jst(2, 3, 30)),
    ]


def test_a_gap_in_any_lock_log_flags_the_days_it_overlaps(admin: Api, db: Engine, office: Setup) -> None:
    with Session(db) as session:
        lab = session.get(Door, office["lab"]["id"])
        assert lab is not None
        record_gap(session=session, door=lab, from_seq=10, to_seq=12, from_ts=jst(1, 10), to_ts=jst(1, 11))
        record_gap(session=session, door=lab, from_seq=20, to_seq=25, from_ts=jst(3, 9), to_ts=0)
        session.commit()
    answer = _days(admin, "2026-11-30", "2026-12-04", site_id=office["site"]["id"])
    assert [(d["date"], d["door_ids"]) for d in answer["incomplete_days"]] == [
        ("2026-12-01", [office["lab"]["id"]]),
        ("2026-12-03", [office["lab"]["id"]]),
        ("2026-12-04", [office["lab"]["id"]]),  # the gap's end is not known
    ]
    flags = {(row["date"], row["external_id"]): row["incomplete"] for row in answer["data"]}
    assert flags == {("2026-12-01", "A-1"): True, ("2026-12-01", "B-2"): True, ("2026-12-02", "A-1"): False}


def test_face_entries_count_and_the_csv_is_the_same_in_local_time(
    admin: Api, db: Engine, office: Setup
) -> None:
    with Session(db) as session:
        lab = session.get(Door, office["lab"]["id"])
        assert lab is not None
        record_cloud_event(
            session=session,
            door=lab,
            ts=jst(3, 7),
            granted=True,
            user_id=office["bob"]["id"],
            reason="face",
            method="face",
            terminal_id="cam-1",
        )
        session.commit()
    params = {"from": "2026-12-01", "to": "2026-12-03", "site_id": office["site"]["id"]}
    answer = admin.ok("GET", "/attendance", params=params)
    face_day = next(row for row in answer["data"] if row["date"] == "2026-12-03")
    assert face_day["user_id"] == office["bob"]["id"] and face_day["first_entry"] == jst(3, 7)
    export = admin.get("/attendance/export.csv", params=params)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["date"], r["user_id"]) for r in rows] == [
        (d["date"], str(d["user_id"])) for d in answer["data"]
    ]
    alice = rows[0]
    assert (
        alice["first_entry"] == "2026-12-01T08:55:00+09:00" and alice["doors"] == "Entrance; Lab; Exit reader"
    )
    bob = next(r for r in rows if r["external_id"] == "B-2")
    assert bob["name"] == "'=HYPERLINK(1)"  # a name never runs as a spreadsheet formula


def test_ranges_and_sites_are_checked(admin: Api, client: TestClient, db: Engine, office: Setup) -> None:
    site_id = office["site"]["id"]
    for params, field in (
        ({"from": "2026-12-02", "to": "2026-12-01", "site_id": site_id}, "to"),
        ({"from": "2026-01-01", "to": "2026-12-01", "site_id": site_id}, "to"),
        ({"from": "2026-12-01", "to": "2026-12-01"}, "site_id"),  # a global key names the site
        ({"from": "2026-12-01", "to": "2026-12-01", "site_id": 2**31 - 1}, "site_id"),
        ({"from": "yesterday", "to": "2026-12-01", "site_id": site_id}, "from"),
    ):
        response = admin.get("/attendance", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", field]
    year = admin.get(
        "/attendance/export.csv", params={"from": "2026-01-01", "to": "2026-12-31", "site_id": site_id}
    )
    assert year.status_code == 200
    other = admin.ok("POST", "/sites", 201, json={"name": "Elsewhere"})
    stranger = Api(client, issue_key(db, "viewer", other["id"], "elsewhere"))
    theirs = stranger.get(
        "/attendance", params={"from": "2026-12-01", "to": "2026-12-02", "site_id": site_id}
    )
    assert theirs.status_code == 422  # another site's id is as unknown as any
    own = stranger.ok("GET", "/attendance", params={"from": "2026-12-01", "to": "2026-12-02"})
    assert own["site_id"] == other["id"] and own["data"] == []


def test_working_days_follow_the_sites_clock_across_dst() -> None:
    paris = Site(id=1, name="Paris", timezone="Europe/Paris", day_boundary_minute=0)
    start, end = day_window(paris, date(2026, 3, 29))  # clocks go forward at 02:00
    assert end - start == 23 * 3600
    start, end = day_window(paris, date(2026, 10, 25))  # and back at 03:00
    assert end - start == 25 * 3600
    shifted = Site(id=2, name="Tokyo", timezone="Asia/Tokyo", day_boundary_minute=300)
    assert day_window(shifted, date(2026, 12, 1)) == (jst(1, 5), jst(2, 5))
