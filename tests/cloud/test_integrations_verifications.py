"""POST /integrations/verifications: a face terminal's "person X at door D"; the cloud checks X's rules for D
at that moment and opens with a one-shot expiring unlock, alone or as the second factor after a card."""

import json
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from cloud.integrations.webhooks.models import WebhookDelivery
from tests.cloud.conftest import Api
from tests.cloud.helpers import card_hex, database_state, ingest, make_door, make_rule, make_user
from tests.cloud.test_integration_keys import integration_key

Setup = dict[str, Any]
PATH = "/integrations/verifications"


@pytest.fixture
def office(admin: Api, client: TestClient, site: dict[str, Any]) -> Setup:
    """A door that takes faces at 0.8, a person allowed there at any time, a terminal key, a webhook."""
    door = make_door(admin, "Lobby", site_id=site["id"], face_threshold=0.8)
    person = make_user(admin, "Ren", site_id=site["id"], external_id="E-1", card=card_hex())
    make_rule(admin, user_id=person["id"], door_id=door["id"], site_id=site["id"])
    terminal = integration_key(admin, client, site["id"], ["verifications"])
    hook = {
        "url": "https://hooks.example.com/x",
        "kinds": ["entry_granted", "entry_denied"],
        "site_id": site["id"],
    }
    admin.ok("POST", "/webhooks", 201, json=hook)
    return {"door": door, "person": person, "terminal": terminal, "site": site}


def _verify(office: Setup, status: int = 201, **fields: Any) -> dict[str, Any]:
    body = {
        "external_id": "E-1",
        "door_id": office["door"]["id"],
        "confidence": 0.93,
        "terminal_id": "gate-cam-1",
    }
    return office["terminal"].ok("POST", PATH, status, json={**body, **fields})


def _webhooks(db: Engine) -> list[dict[str, Any]]:
    with Session(db) as session:
        rows = session.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.id))).all()
        return [json.loads(row.body) for row in rows]


def test_a_verified_face_opens_once_with_an_expiring_command_and_is_logged_as_face(
    admin: Api, db: Engine, office: Setup
) -> None:
    started = int(time.time())
    answer = _verify(office)
    assert (answer["decision"], answer["reason"]) == ("granted", "face")
    assert (
        answer["threshold"] == 0.8
        and answer["confidence"] == 0.93
        and answer["user_id"] == office["person"]["id"]
    )
    command = answer["command"]
    assert (
        command["action"] == "unlock"
        and command["status"] == "pending"
        and command["created_by"] == "billing"
    )
    assert started + 30 <= command["expires_at"] <= int(time.time()) + 30  # settings.face_unlock_ttl_s
    listed = admin.ok("GET", f"/doors/{office['door']['id']}/commands")["data"]
    assert [c["id"] for c in listed] == [command["id"]]
    (event,) = admin.ok("GET", "/events", params={"door_id": office["door"]["id"]})["data"]
    assert event["id"] == answer["event_id"] and event["seq"] is None
    assert (event["type"], event["method"], event["terminal_id"]) == ("granted", "face", "gate-cam-1")
    assert event["user_id"] == office["person"]["id"] and event["reason"] == "face"
    export = admin.get("/events/export.csv").text.splitlines()
    assert "method" in export[0] and "gate-cam-1" in export[1]
    (hook,) = _webhooks(db)
    assert hook["kind"] == "entry_granted" and hook["data"]["method"] == "face"
    assert hook["data"]["external_id"] == "E-1" and hook["data"]["terminal_id"] == "gate-cam-1"
    audit = admin.ok("GET", "/audit", params={"entity": "door", "entity_id": str(office["door"]["id"])})[
        "data"
    ]
    assert audit[0]["action"] == "verify" and audit[0]["actor_kind"] == "integration"
    assert audit[0]["after"]["decision"] == "granted" and audit[0]["after"]["command"]["id"] == command["id"]


def _local_minute(timezone: str) -> int:
    now = datetime.now(ZoneInfo(timezone))
    return now.hour * 60 + now.minute


def test_every_refusal_says_why_and_logs_a_denied_entry(admin: Api, db: Engine, office: Setup) -> None:
    site_id, door_id = office["site"]["id"], office["door"]["id"]
    assert _verify(office, confidence=0.79)["reason"] == "below_threshold"
    stranger = make_user(admin, "Stranger", site_id=site_id, external_id="E-2")
    assert _verify(office, external_id="E-2")["reason"] == "not_allowed"
    later = (_local_minute("Asia/Tokyo") + 120) % 1440
    make_rule(
        admin,
        user_id=stranger["id"],
        door_id=door_id,
        site_id=site_id,
        windows=[[127, later, later + 60 if later < 1380 else 1440]],
    )
    assert _verify(office, external_id="E-2")["reason"] == "not_allowed"  # outside its window (site time)
    admin.ok("PATCH", f"/users/{office['person']['id']}", json={"status": "suspended"})
    assert _verify(office)["reason"] == "not_allowed"
    admin.ok(
        "PATCH", f"/users/{office['person']['id']}", json={"status": "active", "valid_until": 1_000_000_000}
    )
    assert _verify(office)["reason"] == "not_allowed"  # the person's own validity is over
    admin.ok("PATCH", f"/users/{office['person']['id']}", json={"valid_until": 0})
    admin.ok("PATCH", f"/doors/{door_id}", json={"mode": "lockdown"})
    assert _verify(office)["reason"] == "not_allowed"  # lockdown: admin rules only
    admin.ok("PATCH", f"/doors/{door_id}", json={"mode": "normal", "face_threshold": None})
    assert _verify(office)["reason"] == "face_disabled"
    admin.ok("PATCH", f"/doors/{door_id}", json={"face_threshold": 0.5})
    assert _verify(office)["decision"] == "granted"
    admin.ok("POST", f"/doors/{door_id}/retire")
    denied = _verify(office)
    assert (denied["decision"], denied["reason"], denied["command"]) == ("denied", "door_retired", None)
    events = admin.ok("GET", "/events", params={"door_id": door_id, "limit": 50})["data"][::-1]
    reasons = [(e["result"], e["reason"]) for e in events]
    assert reasons == [
        ("denied", "below_threshold"),
        ("denied", "not_allowed"),
        ("denied", "not_allowed"),
        ("denied", "not_allowed"),
        ("denied", "not_allowed"),
        ("denied", "not_allowed"),
        ("denied", "face_disabled"),
        ("granted", "face"),
        ("denied", "door_retired"),
    ]
    assert all(e["method"] == "face" for e in events)
    assert len(admin.ok("GET", f"/doors/{door_id}/commands")["data"]) == 1
    assert [m["kind"] for m in _webhooks(db)].count("entry_denied") == 8


def test_the_person_and_the_door_must_be_the_sites(admin: Api, db: Engine, office: Setup) -> None:
    other = admin.ok("POST", "/sites", 201, json={"name": "Elsewhere"})
    their_door = make_door(admin, site_id=other["id"], face_threshold=0.1)
    their_user = admin.ok(
        "POST", "/users", 201, json={"name": "X", "external_id": "T-1", "site_id": other["id"]}
    )
    before = database_state(db)
    for fields, field in (
        ({"user_id": office["person"]["id"]}, "user_id"),  # both ids
        ({"external_id": None}, "user_id"),  # neither
        ({"external_id": "T-1"}, "external_id"),
        ({"external_id": None, "user_id": their_user["id"]}, "user_id"),
        ({"door_id": their_door["id"]}, "door_id"),
        ({"confidence": 1.5}, "confidence"),
        ({"terminal_id": ""}, "terminal_id"),
    ):
        response = office["terminal"].post(PATH, json={**_body(office), **fields})
        assert response.status_code == 422, (fields, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", field]
    assert database_state(db) == before
    by_id = _verify(office, external_id=None, user_id=office["person"]["id"])
    assert by_id["decision"] == "granted"


def _body(office: Setup) -> dict[str, Any]:
    return {
        "external_id": "E-1",
        "door_id": office["door"]["id"],
        "confidence": 0.93,
        "terminal_id": "gate-cam-1",
    }


def test_door_settings_for_faces_are_checked(admin: Api, office: Setup) -> None:
    door_id = office["door"]["id"]
    for body, field in (
        ({"require_face_s": 10, "face_threshold": None}, "require_face_s"),
        ({"face_threshold": 0}, "face_threshold"),
        ({"face_threshold": 1.01}, "face_threshold"),
        ({"require_face_s": 301}, "require_face_s"),
        ({"direction": "sideways"}, "direction"),
    ):
        response = admin.patch(f"/doors/{door_id}", json=body)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == field, response.text
    new = admin.post(
        "/doors",
        json={"name": "x", "device_id": "lock-x", "site_id": office["site"]["id"], "require_face_s": 5},
    )
    assert new.status_code == 422 and new.json()["detail"][0]["loc"] == ["body", "require_face_s"]
    door = admin.ok("PATCH", f"/doors/{door_id}", json={"require_face_s": 20, "direction": "out"})
    assert (door["require_face_s"], door["face_threshold"], door["direction"]) == (20, 0.8, "out")


@pytest.fixture
def two_factor(admin: Api, office: Setup) -> Setup:
    admin.ok("PATCH", f"/doors/{office['door']['id']}", json={"require_face_s": 20})
    return office


def _tap(db: Engine, office: Setup, seq: int, ts: int) -> None:
    cred = office["person"]["credential"]["cred_hash"]
    ingest(db, office["door"]["id"], [[seq, ts, "granted", cred, "face_required"]])


def test_card_then_face_within_the_window_opens_as_two_factors(
    admin: Api, db: Engine, two_factor: Setup
) -> None:
    office = two_factor
    tapped = int(time.time())
    _tap(db, office, 1, tapped)
    assert _webhooks(db) == []  # a held card is not an entry yet
    answer = _verify(office)
    assert (answer["decision"], answer["reason"]) == ("granted", "card_and_face")
    assert answer["command"]["expires_at"] == min(tapped, answer["created_at"]) + 20
    tap_event = admin.ok("GET", "/events", params={"door_id": office["door"]["id"], "limit": 5})["data"][-1]
    assert answer["card_event_id"] == tap_event["id"] and tap_event["reason"] == "face_required"
    entry = next(e for e in admin.ok("GET", "/events")["data"] if e["id"] == answer["event_id"])
    assert entry["method"] == "card+face" and entry["credential_id"] == office["person"]["credential"]["id"]
    assert [m["data"]["method"] for m in _webhooks(db)] == ["card+face"]
    again = _verify(office)  # the tap completed one pair only: a second face waits for a new card
    assert again["decision"] == "awaiting_card" and again["command"] is None


def test_face_then_card_completes_when_the_tap_arrives(admin: Api, db: Engine, two_factor: Setup) -> None:
    office = two_factor
    waiting = _verify(office)
    assert (waiting["decision"], waiting["command"], waiting["event_id"]) == ("awaiting_card", None, None)
    assert waiting["expires_at"] == waiting["created_at"] + 20
    assert admin.ok("GET", f"/doors/{office['door']['id']}/commands")["count"] == 0
    _tap(db, office, 1, waiting["created_at"] + 3)
    commands = admin.ok("GET", f"/doors/{office['door']['id']}/commands")["data"]
    assert len(commands) == 1 and commands[0]["expires_at"] == waiting["created_at"] + 20
    tap, entry = admin.ok("GET", "/events", params={"door_id": office["door"]["id"]})["data"]  # tap: later ts
    assert (tap["method"], tap["reason"]) == ("card", "face_required")
    assert (entry["method"], entry["terminal_id"], entry["type"]) == ("card+face", "gate-cam-1", "granted")
    audit = admin.ok("GET", "/audit", params={"entity": "door", "entity_id": str(office["door"]["id"])})[
        "data"
    ]
    assert audit[0]["action"] == "verify" and audit[0]["after"]["reason"] == "card_and_face"
    assert audit[0]["actor_kind"] == "integration"


def test_factors_too_far_apart_do_not_pair(admin: Api, db: Engine, two_factor: Setup) -> None:
    office = two_factor
    waiting = _verify(office)
    _tap(db, office, 1, waiting["created_at"] + 21)  # by the lock's clock, after the face's window
    _tap(db, office, 2, waiting["created_at"] - 40)  # a stale tap uploaded late
    assert admin.ok("GET", f"/doors/{office['door']['id']}/commands")["count"] == 0
    other = make_user(admin, "Other", site_id=office["site"]["id"], card=card_hex())
    ingest(
        db,
        office["door"]["id"],
        [[3, waiting["created_at"], "granted", other["credential"]["cred_hash"], "face_required"]],
    )
    assert admin.ok("GET", f"/doors/{office['door']['id']}/commands")["count"] == 0  # someone else's card
