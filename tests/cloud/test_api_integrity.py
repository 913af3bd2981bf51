"""What a change writes: a refused request writes nothing (audit included), a change that leaves a door's
list as it was does not bump that door's version, and one credential is enrolled once per site however it
is spelled."""

from typing import Any

import pytest
from sqlalchemy import Engine

from cloud.crud import credentials
from tests.cloud.conftest import Api
from tests.cloud.helpers import card_hex, database_state, entries, make_door, make_rule, make_user

HEADER = "type,external_id,name,email,group,kind,identifier,label\n"


def test_refused_requests_write_nothing(admin: Api, operator: Api, site: dict[str, Any], db: Engine) -> None:
    door, other = make_door(operator, "Front"), make_door(operator, "Back")
    alice = make_user(operator, "Alice", external_id="E1", card="0102030405060708")
    bob = make_user(operator, "Bob", external_id="E2")
    group = operator.ok("POST", "/groups", 201, json={"name": "Staff", "user_ids": [alice["id"]]})
    zone = operator.ok("POST", "/zones", 201, json={"name": "Lab", "door_ids": [door["id"]]})
    rule = make_rule(operator, group_id=group["id"], zone_id=zone["id"], valid_from=1000, valid_until=2000)
    before = database_state(db)
    refused = [
        # 409s, found after the request's own checks passed
        (
            "POST",
            "/credentials",
            {"user_id": bob["id"], "kind": "felica", "identifier": "01:02:03:04:05:06:07:08"},
            409,
        ),
        ("POST", "/users", {"name": "Other", "external_id": "E1"}, 409),
        ("PATCH", f"/users/{bob['id']}", {"name": "Renamed", "external_id": "E1"}, 409),
        ("POST", "/groups", {"name": "Staff"}, 409),
        (
            "PATCH",
            f"/groups/{group['id']}",
            {"description": "new", "name": "Staff"},
            200,
        ),  # (its own name: fine)
        ("POST", "/doors", {"name": "Dup", "device_id": f"{door['device_id']}"}, 409),
        # 422s raised after part of the change was applied in the session (name first, then a bad door)
        ("PATCH", f"/zones/{zone['id']}", {"name": "Renamed", "door_ids": [other["id"], 987654]}, 422),
        ("POST", "/groups", {"name": "New", "user_ids": [bob["id"], 987654]}, 422),
        ("PATCH", f"/access-rules/{rule['id']}", {"name": "Renamed", "valid_until": 500}, 422),
        ("PATCH", f"/doors/{door['id']}", {"name": "Renamed", "mode": "passage"}, 422),
        ("POST", "/credentials", {"user_id": bob["id"], "kind": "felica", "identifier": "0102"}, 422),
        # an import whose last line is refused after every other line was applied and audited
        (
            "POST",
            "/import",
            {
                "csv": HEADER + "group,,New group,,,,,\nuser,E9,Carol,,New group,,,\n"
                "credential,E9,,,,felica,0127999999999999,\ncredential,E9,,,,felica,0127999999999999,\n"
            },
            422,
        ),
        # a dry run that would succeed
        ("POST", "/import", {"csv": HEADER + "user,E9,Carol,,,,,\n", "dry_run": True}, 200),
    ]
    for method, path, body, status in refused:
        if status == 200:
            continue
        response = operator.request(method, path, json=body)
        assert response.status_code == status, (method, path, response.text)
        assert database_state(db) == before, (method, path)
    dry = operator.request("POST", "/import", json=refused[-1][2])
    assert dry.status_code == 200 and dry.json()["users_created"] == 1
    assert database_state(db) == before
    # Deleting a site that still has doors and users (the admin-only 409).
    assert admin.delete(f"/sites/{site['id']}").status_code == 409
    assert database_state(db) == before


def _version(api: Api, door_id: int) -> int:
    return int(entries(api, door_id)["version"])


def test_changes_that_leave_a_door_list_as_it_was_do_not_bump_it(operator: Api, admin: Api) -> None:
    door, other = make_door(operator, "Lab"), make_door(operator, "Hall")
    alice = make_user(operator, "Alice", card=card_hex())
    group = operator.ok("POST", "/groups", 201, json={"name": "Staff", "user_ids": [alice["id"]]})
    zone = operator.ok("POST", "/zones", 201, json={"name": "Lab", "door_ids": [door["id"]]})
    rule = make_rule(
        operator,
        group_id=group["id"],
        zone_id=zone["id"],
        windows=[[31, 540, 1080]],
        valid_until=2_000_000_000,
    )
    lab, hall = _version(operator, door["id"]), _version(operator, other["id"])
    assert lab == 2 and hall == 1
    no_ops = [
        (
            "PATCH",
            f"/access-rules/{rule['id']}",
            {"windows": [[31, 540, 1080]], "valid_until": 2_000_000_000},
        ),
        ("PATCH", f"/access-rules/{rule['id']}", {"role": "normal", "enabled": True}),
        ("PATCH", f"/access-rules/{rule['id']}", {"name": "renamed"}),
        ("PATCH", f"/users/{alice['id']}", {"name": "Alice B.", "status": "active"}),
        ("PATCH", f"/groups/{group['id']}", {"name": "Everyone"}),
        ("PATCH", f"/zones/{zone['id']}", {"name": "R&D", "door_ids": [door["id"]]}),
        ("PATCH", f"/doors/{door['id']}", {"name": "Lab 1"}),
        ("PATCH", f"/credentials/{alice['credential']['id']}", {"label": "blue card"}),
        ("PUT", f"/groups/{group['id']}/members/{alice['id']}", None),
        ("PUT", f"/zones/{zone['id']}/doors/{door['id']}", None),
        ("DELETE", f"/zones/{zone['id']}/doors/{other['id']}", None),
    ]
    for method, path, body in no_ops:
        operator.ok(method, path, json=body)
        assert _version(operator, door["id"]) == lab, (method, path)
        assert _version(operator, other["id"]) == hall, (method, path)
    # Idempotent membership calls change nothing, so they leave no audit entry either.
    last_audit = admin.ok("GET", "/audit", params={"limit": 1})["data"][0]["id"]
    for method, path, _ in no_ops[-3:]:
        operator.ok(method, path)
    assert admin.ok("GET", "/audit", params={"limit": 1})["data"][0]["id"] == last_audit
    # A real change bumps exactly the doors whose list changed, by one.
    operator.ok("PATCH", f"/access-rules/{rule['id']}", json={"windows": [[31, 480, 1080]]})
    assert (_version(operator, door["id"]), _version(operator, other["id"])) == (lab + 1, hall)
    operator.ok("PUT", f"/zones/{zone['id']}/doors/{other['id']}")
    assert (_version(operator, door["id"]), _version(operator, other["id"])) == (lab + 1, hall + 1)


def test_one_credential_per_site_however_it_is_spelled(
    admin: Api, operator: Api, site: dict[str, Any]
) -> None:
    alice, bob = make_user(operator, "Alice"), make_user(operator, "Bob")
    spellings = {
        "felica": (
            "0a1b2c3d4e5f6071",
            [
                "0A1B2C3D4E5F6071",
                "0a:1b:2c:3d:4e:5f:60:71",
                "0A-1B-2C-3D-4E-5F-60-71",
                " 0a 1b 2c 3d 4e 5f 60 71 ",
            ],
        ),
        "iso14443a": ("04a1b2c3d4e5f6", ["04A1B2C3D4E5F6", "04:a1:b2:c3:d4:e5:f6", "04-A1-b2-C3-d4-E5-f6"]),
    }
    for kind, (first, others) in spellings.items():
        enrolled = operator.ok(
            "POST", "/credentials", 201, json={"user_id": alice["id"], "kind": kind, "identifier": first}
        )
        for spelling in others:
            for user in (alice, bob):
                response = operator.post(
                    "/credentials", json={"user_id": user["id"], "kind": kind, "identifier": spelling}
                )
                assert response.status_code == 409, (kind, spelling, response.text)
                assert str(enrolled["id"]) in response.json()["detail"]
        # The import compares the same way (a line error, the file refused).
        csv = HEADER + f"user,E7,Carol,,,,,\ncredential,E7,,,,{kind},{others[-1]},\n"
        report = operator.post("/import", json={"csv": csv})
        assert report.status_code == 422 and report.json()["errors"][0]["field"] == "identifier"
    assert operator.ok("GET", "/credentials")["count"] == 2
    # The same card may be enrolled in another site: uniqueness is per site (its hash differs there too).
    other_site = admin.ok("POST", "/sites", 201, json={"name": "Annex"})
    carol = make_user(admin, "Carol", site_id=other_site["id"])
    there = admin.ok(
        "POST",
        "/credentials",
        201,
        json={"user_id": carol["id"], "kind": "felica", "identifier": "0A1B2C3D4E5F6071"},
    )
    assert there["cred_hash"] != operator.ok("GET", "/credentials")["data"][0]["cred_hash"]


def test_a_race_past_the_uniqueness_check_is_409_and_writes_nothing(
    operator: Api, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests enrolling one card at once both pass the service's check; the database's unique
    (site, hash) constraint refuses the second. Simulated by disabling the check for the second request."""
    alice, bob = make_user(operator, "Alice"), make_user(operator, "Bob")
    operator.ok(
        "POST",
        "/credentials",
        201,
        json={"user_id": alice["id"], "kind": "felica", "identifier": "0102030405060708"},
    )
    make_rule(operator, user_id=bob["id"], door_id=make_door(operator)["id"])
    before = database_state(db)
    monkeypatch.setattr(credentials, "taken_in_site", lambda **_: None)
    response = operator.post(
        "/credentials", json={"user_id": bob["id"], "kind": "felica", "identifier": "0102030405060708"}
    )
    assert response.status_code == 409 and "retry" in response.json()["detail"]
    assert "0102030405060708" not in response.text
    assert database_state(db) == before
