"""CRUD of sites, doors, zones, users, groups, credentials and rules; secrets once; 409/422; audit."""

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from cloud.audit.models import AuditEntry
from cloud.models.credential import Credential
from cloud.models.zone import Zone
from shared_schema.assurance import assurance
from shared_schema.credentials import credential_hash
from tests.cloud.conftest import Api
from tests.cloud.helpers import card_hex, make_door, make_user, one_of_everything


def test_site_key_and_device_secret_are_shown_once(admin: Api, site: dict[str, Any], operator: Api) -> None:
    assert len(bytes.fromhex(site["site_key"])) >= 16
    assert "site_key" not in admin.ok("GET", f"/sites/{site['id']}")
    assert all("site_key" not in s for s in admin.ok("GET", "/sites")["data"])
    door = make_door(operator, "Front")
    assert len(bytes.fromhex(door["device_secret"])) >= 16
    assert "device_secret" not in operator.ok("GET", f"/doors/{door['id']}")
    assert "device_secret" not in operator.ok("PATCH", f"/doors/{door['id']}", json={"name": "Main"})
    assert all("device_secret" not in d for d in operator.ok("GET", "/doors")["data"])
    audit = admin.ok("GET", "/audit")["data"]
    assert site["site_key"] not in str(audit) and door["device_secret"] not in str(audit)


def test_credential_hash_matches_the_wire_contract(site: dict[str, Any], operator: Api) -> None:
    user = make_user(operator, "Alice")
    card = operator.ok(
        "POST",
        "/credentials",
        201,
        json={"user_id": user["id"], "kind": "iso14443a", "identifier": "04:A1:B2:C3:D4:E5:F6"},
    )
    key = bytes.fromhex(site["site_key"])
    assert card["cred_hash"] == credential_hash(key, "iso14443a", "04a1b2c3d4e5f6")
    assert card["assurance"] == assurance("iso14443a") == "uid"
    assert card["token"] is None and "identifier" not in card
    phone = operator.ok("POST", "/credentials", 201, json={"user_id": user["id"], "kind": "phone"})
    assert phone["assurance"] == "token"
    assert phone["cred_hash"] == credential_hash(key, "phone", phone["token"])
    assert len(bytes.fromhex(phone["token"])) == 16
    shown = operator.ok("GET", f"/credentials/{phone['id']}")
    assert "token" not in shown and phone["token"] not in str(shown)


def test_duplicate_credential_is_409_even_spelled_differently(operator: Api, db: Engine) -> None:
    alice, bob = make_user(operator, "Alice"), make_user(operator, "Bob")
    operator.ok(
        "POST",
        "/credentials",
        201,
        json={"user_id": alice["id"], "kind": "felica", "identifier": "0102030405060708"},
    )
    again = operator.post(
        "/credentials", json={"user_id": bob["id"], "kind": "felica", "identifier": "01-02-03-04-05-06-07-08"}
    )
    assert again.status_code == 409
    with Session(db) as session:
        assert session.exec(select(func.count()).select_from(Credential)).one() == 1


def test_invalid_bodies_are_422_with_the_field(operator: Api, admin: Api) -> None:
    response = admin.post("/sites", json={"name": "x", "timezone": "Mars/Olympus"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "timezone"]
    user = make_user(operator, "Alice")
    cases = [
        ("/credentials", {"user_id": user["id"], "kind": "felica", "identifier": "0102"}, "identifier"),
        (
            "/credentials",
            {"user_id": user["id"], "kind": "iso14443a", "identifier": "08112233"},
            "identifier",
        ),
        ("/credentials", {"user_id": user["id"], "kind": "nfc", "identifier": "0102030405060708"}, "kind"),
        ("/credentials", {"user_id": user["id"], "kind": "phone", "identifier": "00" * 16}, "identifier"),
        ("/doors", {"name": "x", "device_id": "Bad Id!"}, "device_id"),
        ("/doors", {"name": "x", "device_id": "lock-1", "mode": "party"}, "mode"),
        ("/doors", {"name": "x", "device_id": "lock-1", "mode": "passage"}, "passage_windows"),
        (
            "/doors",
            {"name": "x", "device_id": "lock-1", "passage_windows": [[0, 60, 120]]},
            "passage_windows",
        ),
        ("/users", {"name": ""}, "name"),
        ("/users", {"name": "a\x00b"}, "name"),
    ]
    for path, body, field in cases:
        response = operator.post(path, json=body)
        assert response.status_code == 422, (path, body, response.text)
        assert field in str(response.json()["detail"]), (path, body, response.text)


def test_failing_request_writes_nothing(operator: Api, admin: Api, db: Engine) -> None:
    door = make_door(operator, "Front")
    before = len(admin.ok("GET", "/audit")["data"])
    response = operator.post("/zones", json={"name": "Lab", "door_ids": [door["id"], 987654]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "door_ids.1"]
    with Session(db) as session:
        assert session.exec(select(func.count()).select_from(Zone)).one() == 0
        assert session.exec(select(func.count()).select_from(AuditEntry)).one() == before


def test_crud_round_trip_with_audit(operator: Api, admin: Api) -> None:
    door = make_door(operator, "Front")
    zone = operator.ok("POST", "/zones", 201, json={"name": "Lab", "door_ids": [door["id"]]})
    assert zone["door_ids"] == [door["id"]]
    second = make_door(operator, "Back")
    assert operator.ok("PUT", f"/zones/{zone['id']}/doors/{second['id']}")["door_ids"] == [
        door["id"],
        second["id"],
    ]
    assert operator.ok("DELETE", f"/zones/{zone['id']}/doors/{door['id']}")["door_ids"] == [second["id"]]
    user = make_user(operator, "Alice", external_id="E1", email="a@example.com")
    assert operator.post("/users", json={"name": "Other", "external_id": "E1"}).status_code == 409
    group = operator.ok("POST", "/groups", 201, json={"name": "Staff", "user_ids": [user["id"]]})
    assert group["member_count"] == 1
    members = operator.ok("GET", f"/groups/{group['id']}/members")
    assert [m["id"] for m in members["data"]] == [user["id"]]
    operator.ok("DELETE", f"/groups/{group['id']}/members/{user['id']}")
    assert operator.ok("GET", f"/groups/{group['id']}")["member_count"] == 0
    updated = operator.ok("PATCH", f"/users/{user['id']}", json={"status": "suspended"})
    assert updated["status"] == "suspended" and updated["name"] == "Alice"
    rule = operator.ok(
        "POST",
        "/access-rules",
        201,
        json={"group_id": group["id"], "zone_id": zone["id"], "windows": [[31, 540, 1080]]},
    )
    assert operator.ok("PATCH", f"/access-rules/{rule['id']}", json={"enabled": False})["enabled"] is False
    operator.ok("DELETE", f"/access-rules/{rule['id']}", 204)
    assert operator.get(f"/access-rules/{rule['id']}").status_code == 404
    operator.ok("DELETE", f"/zones/{zone['id']}", 204)
    operator.ok("DELETE", f"/groups/{group['id']}", 204)
    operator.ok("DELETE", f"/users/{user['id']}", 204)
    operator.ok("DELETE", f"/doors/{door['id']}", 204)
    assert operator.get(f"/doors/{door['id']}").status_code == 404

    audit = admin.ok("GET", "/audit", params={"limit": 500})["data"]
    assert audit[0]["id"] > audit[-1]["id"]  # newest first
    assert all(entry["actor"] == "desk" for entry in audit if entry["entity"] != "site")
    suspend = next(e for e in audit if e["entity"] == "user" and e["action"] == "update")
    assert suspend["before"]["status"] == "active" and suspend["after"]["status"] == "suspended"
    deleted = next(e for e in audit if e["entity"] == "door" and e["action"] == "delete")
    assert deleted["before"]["name"] == "Front" and deleted["after"] is None
    only_doors = admin.ok("GET", "/audit", params={"entity": "door", "entity_id": str(door["id"])})["data"]
    assert {e["action"] for e in only_doors} == {"create", "delete"}


def test_lists_paginate_in_a_stable_order(operator: Api) -> None:
    created = [make_user(operator, f"User {i}")["id"] for i in range(7)]
    seen = []
    for offset in range(0, 7, 3):
        page = operator.ok("GET", "/users", params={"offset": offset, "limit": 3})
        assert page["count"] == 7
        seen += [user["id"] for user in page["data"]]
    assert seen == sorted(created)


def test_site_with_objects_cannot_be_deleted(admin: Api, site: dict[str, Any], operator: Api) -> None:
    make_door(operator)
    assert admin.delete(f"/sites/{site['id']}").status_code == 409
    empty = admin.ok("POST", "/sites", 201, json={"name": "Empty"})
    admin.ok("DELETE", f"/sites/{empty['id']}", 204)


def test_credentials_move_between_users(operator: Api) -> None:
    alice = make_user(operator, "Alice", card=card_hex())
    bob = make_user(operator, "Bob")
    moved = operator.ok("PATCH", f"/credentials/{alice['credential']['id']}", json={"user_id": bob["id"]})
    assert moved["user_id"] == bob["id"]
    listed = operator.ok("GET", "/credentials", params={"user_id": bob["id"]})["data"]
    assert [c["id"] for c in listed] == [alice["credential"]["id"]]


def test_every_list_pages_in_a_stable_order(admin: Api) -> None:
    """Paging through any list with a small limit visits each row once, in id order (audit: newest first)."""
    for tag in ("A", "B", "C"):
        site = admin.ok("POST", "/sites", 201, json={"name": tag})
        one_of_everything(admin, site["id"], tag)
    descending = {"/audit"}
    for path in (
        "/sites",
        "/doors",
        "/zones",
        "/users",
        "/groups",
        "/credentials",
        "/access-rules",
        "/api-keys",
        "/audit",
    ):
        whole = admin.ok("GET", path, params={"limit": 500})
        ids = [row["id"] for row in whole["data"]]
        assert whole["count"] == len(ids) >= 3, path
        assert ids == sorted(ids, reverse=path in descending), path
        paged = []
        for offset in range(0, len(ids), 2):
            page = admin.ok("GET", path, params={"offset": offset, "limit": 2})
            assert page["count"] == len(ids), path
            paged += [row["id"] for row in page["data"]]
        assert paged == ids, path
