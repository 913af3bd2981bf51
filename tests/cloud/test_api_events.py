"""Events: ingest (as the MQTT sync will), filters, keyset pagination, CSV export, zone presence."""

import csv
import io
from typing import Any

from sqlalchemy import Engine

from tests.cloud.conftest import Api
from tests.cloud.helpers import card_hex, ingest, make_door, make_user

T0 = 1_790_000_000


def _ingest(db: Engine, door_id: int, events: list[list[Any]], received_at: int = T0 + 10_000) -> Any:
    return ingest(db, door_id, events, received_at)


def test_ingest_resolves_dedupes_and_counts(db: Engine, operator: Api) -> None:
    door = make_door(operator)
    alice = make_user(operator, "Alice", card=card_hex())
    cred = alice["credential"]["cred_hash"]
    result = _ingest(
        db,
        door["id"],
        [
            [1, T0, "granted", cred, ""],
            [2, T0 + 5, "denied", "ab" * 16, "unknown"],
            [3, 0, "boot", "", "power_on"],
            [4, T0, "no_such_type", "", ""],
            [5, T0, "granted", "NOT-HEX", ""],
        ],
    )
    assert (result.stored, result.duplicates, result.rejected, result.upto) == (3, 0, 2, 3)
    again = _ingest(
        db, door["id"], [[2, T0 + 5, "denied", "ab" * 16, "unknown"], [6, T0 + 6, "door_open", "", ""]]
    )
    assert (again.stored, again.duplicates, again.upto) == (1, 1, 6)
    events = operator.ok("GET", "/events", params={"limit": 50})["data"]
    assert [e["seq"] for e in events] == [3, 6, 2, 1]  # newest first; seq 3's clock was unset: receive time
    granted = events[-1]
    assert granted["user_id"] == alice["id"] and granted["credential_id"] == alice["credential"]["id"]
    assert granted["result"] == "granted"
    assert events[0]["clock_set"] is False and events[0]["ts"] == T0 + 10_000
    assert events[2]["user_id"] is None and events[2]["result"] == "denied"


def test_filters_and_cursor_pagination(db: Engine, operator: Api) -> None:
    front, back = make_door(operator, "Front"), make_door(operator, "Back")
    zone = operator.ok("POST", "/zones", 201, json={"name": "Back office", "door_ids": [back["id"]]})
    alice = make_user(operator, "Alice", card=card_hex())
    cred = alice["credential"]["cred_hash"]
    # Many events share a timestamp, so the keyset must break ties on id.
    _ingest(db, front["id"], [[seq, T0 + seq // 4, "granted", cred, ""] for seq in range(1, 31)])
    _ingest(db, back["id"], [[seq, T0 + seq, "denied", "", "unknown"] for seq in range(1, 11)])

    def all_pages(**params: Any) -> list[dict[str, Any]]:
        seen, cursor = [], None
        while True:
            page = operator.ok(
                "GET", "/events", params={**params, "limit": 7, **({"cursor": cursor} if cursor else {})}
            )
            seen += page["data"]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    everything = all_pages()
    assert len(everything) == 40 and len({e["id"] for e in everything}) == 40
    keys = [(e["ts"], e["id"]) for e in everything]
    assert keys == sorted(keys, reverse=True)
    assert {e["door_id"] for e in all_pages(door_id=front["id"])} == {front["id"]}
    assert {e["door_id"] for e in all_pages(zone_id=zone["id"])} == {back["id"]}
    assert len(all_pages(user_id=alice["id"])) == 30
    assert len(all_pages(result="denied")) == 10
    window = all_pages(since=T0 + 2, until=T0 + 5)
    assert window and all(T0 + 2 <= e["ts"] < T0 + 5 for e in window)
    assert operator.get("/events", params={"cursor": "garbage!"}).status_code == 422
    assert operator.get("/events", params={"result": "maybe"}).status_code == 422

    exported = operator.client.get(
        "/api/v1/events/export.csv", headers=operator.headers, params={"door_id": front["id"]}
    )
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["id"]) for r in rows] == [e["id"] for e in all_pages(door_id=front["id"])]
    assert rows[0]["cred_hash"] == cred


def test_events_are_scoped_to_the_callers_site(db: Engine, admin: Api, operator: Api) -> None:
    other_site = admin.ok("POST", "/sites", 201, json={"name": "Other"})
    other_door = make_door(admin, site_id=other_site["id"])
    _ingest(db, other_door["id"], [[1, T0, "boot", "", ""]])
    assert operator.ok("GET", "/events")["data"] == []
    assert operator.ok("GET", "/events", params={"door_id": other_door["id"]})["data"] == []
    assert len(admin.ok("GET", "/events")["data"]) == 1


def test_presence_lists_who_entered_the_zone(db: Engine, operator: Api) -> None:
    lab, hall = make_door(operator, "Lab"), make_door(operator, "Hall")
    zone = operator.ok("POST", "/zones", 201, json={"name": "Personal data room", "door_ids": [lab["id"]]})
    alice = make_user(operator, "Alice", card=card_hex())
    bob = make_user(operator, "Bob", card=card_hex())
    a, b = alice["credential"]["cred_hash"], bob["credential"]["cred_hash"]
    _ingest(
        db,
        lab["id"],
        [
            [1, T0 + 100, "granted", a, ""],
            [2, T0 + 200, "denied", b, "schedule"],
            [3, T0 + 300, "granted", b, ""],
            [4, T0 + 400, "granted", a, ""],
            [5, T0 + 9000, "granted", b, ""],
            [6, T0 + 500, "granted", "cd" * 16, ""],
        ],
    )
    _ingest(db, hall["id"], [[1, T0 + 150, "granted", a, ""]])
    answer = operator.ok("GET", f"/zones/{zone['id']}/presence", params={"since": T0, "until": T0 + 1000})
    people = {p["name"]: p for p in answer["people"]}
    assert set(people) == {"Alice", "Bob", None}
    assert [e["ts"] for e in people["Alice"]["entries"]] == [T0 + 100, T0 + 400]
    assert people["Alice"]["first_entry"] == T0 + 100 and people["Alice"]["last_entry"] == T0 + 400
    assert [e["ts"] for e in people["Bob"]["entries"]] == [T0 + 300]
    assert people[None]["cred_hash"] == "cd" * 16 and answer["truncated"] is False
    assert operator.get(f"/zones/{zone['id']}/presence", params={"since": T0, "until": T0}).status_code == 422
    assert operator.get(f"/zones/{zone['id']}/presence").status_code == 422
