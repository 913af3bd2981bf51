"""Mobile keys over the API (SQLite and PostgreSQL): issuing (validity cut to the rules, their windows,
tickets per lock that verify under each lock's K_mobile), delivery once (JSON, file, QR code), listing,
revocation through the credential and the doors' tables, events shown as `phone`, no secret left anywhere."""

import json
import time
from typing import Any

import pytest
from sqlalchemy import Engine

from shared_schema import mobilekeys as mk
from shared_schema.mobilekeyfile import ticket_for
from tests.cloud.conftest import Api
from tests.cloud.helpers import database_state, entries, ingest, make_door, make_rule, make_user

DAY = 86400
WEEKDAYS = [[0x1F, 540, 1080]]


@pytest.fixture
def api(operator: Api) -> Api:
    """An operator bound to the test site (creates in it without naming it)."""
    return operator


def _issue(api: Api, user_id: int, status: int = 201, **body: Any) -> Any:
    return api.ok("POST", f"/users/{user_id}/mobile-keys", status, json=body)


def _setup(api: Api, **rule: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    door = make_door(api, "Front")
    user = make_user(api, "Aiko")
    make_rule(api, user_id=user["id"], door_id=door["id"], **rule)
    return door, user


def test_issue_for_a_door_cut_to_the_rule_with_its_windows(api: Api) -> None:
    now = int(time.time())
    door, user = _setup(api, valid_until=now + 10 * DAY, windows=WEEKDAYS)
    issued = _issue(api, user["id"], door_id=door["id"], valid_until=now + 20 * DAY, label="Aiko's phone")
    assert issued["valid_until"] == now + 10 * DAY  # never beyond the rule
    assert now - 5 <= issued["valid_from"] <= now + 5
    assert issued["windows"] == WEEKDAYS
    assert issued["doors"] == [{"door_id": door["id"], "device_id": door["device_id"], "key_generation": 1}]
    assert not issued["revoked"] and not issued["reissue_needed"]
    keyfile = issued["key_file"]
    assert keyfile["key_id"] == issued["key_id"] and len(keyfile["secret"]) == 64
    assert json.loads(keyfile["common"]) == {
        "f": issued["valid_from"],
        "k": issued["key_id"],
        "t": now + 10 * DAY,
        "u": user["id"],
        "v": 1,
        "win": WEEKDAYS,
    }
    # the credential: kind mobile, assurance challenge, its id the key id; in the door's table
    credential = api.ok("GET", f"/credentials/{issued['credential_id']}")
    assert (credential["kind"], credential["assurance"], credential["cred_hash"]) == (
        "mobile",
        "challenge",
        issued["key_id"],
    )
    assert [entry[0] for entry in entries(api, door["id"])["entries"]] == [issued["key_id"]]


def test_the_ticket_verifies_under_the_locks_key_only(api: Api) -> None:
    door, user = _setup(api)
    device_secret = bytes.fromhex(door["provisioning"]["device_secret"])
    keyfile = _issue(api, user["id"], door_id=door["id"])["key_file"]
    ticket = ticket_for(keyfile, door["device_id"])
    assert ticket is not None and ticket["g"] == 1
    body = mk.ticket_body(door["device_id"], ticket["g"], ticket["wrap"], keyfile["common"])
    assert mk.ticket_mac(mk.mobile_key(device_secret), body).hex() == ticket["mac"]
    assert mk.ticket_mac(mk.mobile_key(bytes(32)), body).hex() != ticket["mac"]
    # the lock recovers exactly the phone's k_d from the ticket
    key_id = bytes.fromhex(keyfile["key_id"])
    k_door = mk.door_secret(bytes.fromhex(keyfile["secret"]), door["device_id"].encode())
    pad = mk.wrap_pad(mk.mobile_key(device_secret), key_id)
    assert mk.xor16(bytes.fromhex(ticket["wrap"]), pad) == k_door


def test_a_zone_key_covers_the_doors_the_rules_reach(api: Api) -> None:
    doors = [make_door(api, f"D{i}") for i in range(3)]
    zone = api.ok("POST", "/zones", 201, json={"name": "Floor", "door_ids": [d["id"] for d in doors[:2]]})
    user = make_user(api, "Ren")
    group = api.ok("POST", "/groups", 201, json={"name": "Staff", "user_ids": [user["id"]]})
    make_rule(api, group_id=group["id"], door_id=doors[0]["id"], windows=[[1, 540, 600]])
    make_rule(api, user_id=user["id"], door_id=doors[1]["id"], windows=[[2, 540, 600]])
    make_rule(api, user_id=user["id"], door_id=doors[2]["id"])  # outside the zone
    issued = _issue(api, user["id"], zone_id=zone["id"])
    assert sorted(d["door_id"] for d in issued["doors"]) == [doors[0]["id"], doors[1]["id"]]
    assert issued["windows"] == [[3, 540, 600]]  # the union of the rules' windows
    assert sorted(t["device_id"] for t in issued["key_file"]["locks"]) == sorted(
        d["device_id"] for d in doors[:2]
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "door_id"),
        ({"door_id": 1, "zone_id": 1}, "door_id"),
        ({"valid_until": 1}, "valid_until"),
        ({"valid_until": 2**40}, "valid_until"),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(
    api: Api, db: Engine, body: dict[str, Any], field: str
) -> None:
    door, user = _setup(api)
    body = {**body}
    if body.get("door_id") == 1:
        body["door_id"] = door["id"]
    elif "valid_until" in body:
        body["door_id"] = door["id"]
    before = database_state(db)
    answer = api.post(f"/users/{user['id']}/mobile-keys", json=body)
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert database_state(db) == before


def test_no_rule_no_key_and_suspended_users_get_none(api: Api) -> None:
    now = int(time.time())
    door, user = _setup(api, valid_from=now + 40 * DAY)
    other = make_door(api, "Back")
    answer = api.post(f"/users/{user['id']}/mobile-keys", json={"door_id": other["id"]})
    assert answer.status_code == 422 and "no enabled rule" in answer.text
    # the rule starts after the requested period ends
    answer = api.post(f"/users/{user['id']}/mobile-keys", json={"door_id": door["id"]})
    assert answer.status_code == 422 and "grant nothing" in answer.text
    api.ok("PATCH", f"/users/{user['id']}", json={"status": "suspended"})
    assert api.post(f"/users/{user['id']}/mobile-keys", json={"door_id": door["id"]}).status_code == 409


def test_delivery_as_a_file_or_a_qr_code(api: Api) -> None:
    door, user = _setup(api)
    answer = api.post(f"/users/{user['id']}/mobile-keys?format=file", json={"door_id": door["id"]})
    assert answer.status_code == 201 and answer.headers["cache-control"] == "no-store"
    assert "attachment" in answer.headers["content-disposition"]
    keyfile = answer.json()
    assert keyfile["format"] == "openakerun-mobile-key" and len(keyfile["secret"]) == 64
    answer = api.post(f"/users/{user['id']}/mobile-keys?format=qr", json={"door_id": door["id"]})
    assert answer.status_code == 201 and answer.headers["content-type"] == "image/png"
    assert answer.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert api.ok("GET", f"/users/{user['id']}/mobile-keys")["count"] == 2


def test_list_read_revoke_and_the_table_loses_it(api: Api, db: Engine) -> None:
    door, user = _setup(api)
    issued = _issue(api, user["id"], door_id=door["id"])
    listed = api.ok("GET", f"/users/{user['id']}/mobile-keys")
    assert listed["count"] == 1 and "key_file" not in listed["data"][0]
    read = api.ok("GET", f"/users/{user['id']}/mobile-keys/{issued['id']}")
    assert read["key_id"] == issued["key_id"] and "key_file" not in read
    version = entries(api, door["id"])["version"]
    api.ok("DELETE", f"/users/{user['id']}/mobile-keys/{issued['id']}", 204)
    api.ok("DELETE", f"/users/{user['id']}/mobile-keys/{issued['id']}", 204)  # again: already revoked
    table = entries(api, door["id"])
    assert table["entries"] == [] and table["version"] == version + 1
    read = api.ok("GET", f"/users/{user['id']}/mobile-keys/{issued['id']}")
    assert read["revoked"] and read["credential_id"] is None
    assert api.get(f"/credentials/{issued['credential_id']}").status_code == 404
    audit = api.ok("GET", "/audit?entity=mobile_key")["data"]
    assert {entry["action"] for entry in audit} == {"create", "revoke"}
    assert issued["key_file"]["secret"] not in json.dumps(audit)
    # another user's key is not found under this user
    other = make_user(api, "Mio")
    assert api.get(f"/users/{other['id']}/mobile-keys/{issued['id']}").status_code == 404


def test_events_of_a_phone_show_it_revoked_or_not(api: Api, db: Engine) -> None:
    door, user = _setup(api)
    card_user = make_user(api, "Card", card="0127aabbccddeeff")
    issued = _issue(api, user["id"], door_id=door["id"])
    key_id = issued["key_id"]
    ingest(
        db,
        door["id"],
        [
            [1, 0, "granted", key_id, "ok"],
            [2, 0, "denied", "", "bad_answer"],
            [3, 0, "granted", card_user["credential"]["cred_hash"], "ok"],
            [4, 0, "door_open", "", "door_sensor"],
        ],
    )
    api.ok("DELETE", f"/users/{user['id']}/mobile-keys/{issued['id']}", 204)
    ingest(db, door["id"], [[5, 0, "denied", key_id, "unknown_credential"]])
    events = api.ok("GET", f"/events?door_id={door['id']}&limit=10")["data"]
    methods = {event["seq"]: event["method"] for event in events}
    assert methods == {1: "phone", 2: "phone", 3: "card", 4: "", 5: "phone"}
    by_seq = {event["seq"]: event for event in events}
    assert by_seq[1]["user_id"] == user["id"]


def test_a_mobile_credential_stays_with_its_user(api: Api) -> None:
    door, user = _setup(api)
    issued = _issue(api, user["id"], door_id=door["id"])
    other = make_user(api, "Mio")
    answer = api.patch(f"/credentials/{issued['credential_id']}", json={"user_id": other["id"]})
    assert answer.status_code == 422 and "revoke" in answer.text
    relabel = api.patch(f"/credentials/{issued['credential_id']}", json={"label": "old phone"})
    assert relabel.status_code == 200
    # POST /credentials cannot make one
    answer = api.post("/credentials", json={"user_id": user["id"], "kind": "mobile"})
    assert answer.status_code == 422


def test_rotation_marks_keys_for_reissue(api: Api, admin: Api) -> None:
    door, user = _setup(api)
    issued = _issue(api, user["id"], door_id=door["id"])
    admin.ok("POST", f"/doors/{door['id']}/provision")  # a new device secret: the ticket no longer verifies
    read = api.ok("GET", f"/users/{user['id']}/mobile-keys/{issued['id']}")
    assert read["reissue_needed"]
    again = _issue(api, user["id"], door_id=door["id"])
    assert again["doors"][0]["key_generation"] == 2 and not again["reissue_needed"]


def test_who_may_issue_and_see(api: Api, admin: Api, site: dict[str, Any], db: Engine, client: Any) -> None:
    from tests.cloud.conftest import issue_key

    door, user = _setup(api)
    viewer = Api(client, issue_key(db, "viewer", site["id"], "kiosk"))
    assert viewer.post(f"/users/{user['id']}/mobile-keys", json={"door_id": door["id"]}).status_code == 403
    other_site = admin.ok("POST", "/sites", 201, json={"name": "Annex", "timezone": "Asia/Tokyo"})
    stranger = Api(client, issue_key(db, "operator", other_site["id"], "annex desk"))
    assert stranger.post(f"/users/{user['id']}/mobile-keys", json={"door_id": door["id"]}).status_code == 404
    assert stranger.get(f"/users/{user['id']}/mobile-keys").status_code == 404
    assert viewer.ok("GET", f"/users/{user['id']}/mobile-keys")["count"] == 0


def test_the_secret_is_stored_nowhere(api: Api, db: Engine) -> None:
    door, user = _setup(api)
    keyfile = _issue(api, user["id"], door_id=door["id"])["key_file"]
    secret = keyfile["secret"]
    k_door = mk.door_secret(bytes.fromhex(secret), door["device_id"].encode()).hex()
    dump = json.dumps(database_state(db), default=str).lower()
    for value in (secret, k_door):
        assert value not in dump
