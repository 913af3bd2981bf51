"""Where webhooks are queued: event ingest, permission version steps, command results, log gaps, lock status;
always in the transaction of the cause, with the documented data."""

import json
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from cloud.commands.models import Command
from cloud.commands.service import expire_commands, set_command_status
from cloud.events.gaps import EventGap, record_gap
from cloud.integrations.hooks import lock_status_changed
from cloud.integrations.webhooks.kinds import KINDS
from cloud.integrations.webhooks.models import WebhookDelivery
from cloud.models.door import Door
from tests.cloud.conftest import Api
from tests.cloud.helpers import card_hex, ingest, make_door, make_rule, make_user

T0 = 1_790_000_000


@pytest.fixture
def hook(admin: Api, site: dict[str, Any]) -> dict[str, Any]:
    body = {"url": "https://hooks.example.com/all", "kinds": list(KINDS), "site_id": site["id"]}
    return admin.ok("POST", "/webhooks", 201, json=body)


def queued(db: Engine) -> list[dict[str, Any]]:
    """Every queued message, oldest first: {"kind", "data", ...} as the receiver will get it."""
    with Session(db) as session:
        rows = session.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.id))).all()
        return [json.loads(row.body) for row in rows]


def test_ingested_entries_forced_and_held_open_doors_are_queued_with_who_and_how(
    admin: Api, db: Engine, site: dict[str, Any], hook: dict[str, Any]
) -> None:
    door = make_door(admin, "Front", site_id=site["id"])
    phone_user = admin.ok(
        "POST", "/users", 201, json={"name": "Pat", "external_id": "M-7", "site_id": site["id"]}
    )
    phone = admin.ok("POST", "/credentials", 201, json={"user_id": phone_user["id"], "kind": "phone"})
    card_user = make_user(admin, "Kim", site_id=site["id"], card=card_hex())
    result = ingest(
        db,
        door["id"],
        [
            [1, T0, "granted", phone["cred_hash"], "ok"],
            [2, T0 + 1, "door_open", "", ""],
            [3, T0 + 2, "denied", card_user["credential"]["cred_hash"], "outside_schedule"],
            [4, T0 + 3, "held_open", "", ""],
            [5, T0 + 4, "tamper", "", "forced"],
            [6, T0 + 5, "remote_unlock", "", "remote"],
            [7, 0, "denied", "ab" * 16, "unknown_credential"],
        ],
    )
    assert result.stored == 7
    messages = queued(db)
    assert [m["kind"] for m in messages] == [
        "entry_granted",
        "entry_denied",
        "door_held_open",
        "door_forced",
        "entry_denied",
    ]
    granted = messages[0]["data"]
    assert granted["user_id"] == phone_user["id"] and granted["external_id"] == "M-7"
    assert granted["user_name"] == "Pat" and granted["method"] == "phone" and granted["seq"] == 1
    assert granted["door_name"] == "Front" and granted["ts"] == T0 and granted["event_id"] > 0
    assert messages[1]["data"]["method"] == "card" and messages[1]["data"]["reason"] == "outside_schedule"
    assert messages[3]["data"]["reason"] == "forced"
    unknown = messages[4]["data"]
    assert unknown["user_id"] is None and unknown["method"] == "" and unknown["clock_set"] is False
    events = admin.ok("GET", "/events", params={"door_id": door["id"]})["data"]
    assert {e["seq"]: e["method"] for e in events}[6] == "remote"
    ingest(db, door["id"], [[1, T0, "granted", phone["cred_hash"], "ok"]])  # a repeat: nothing new
    assert len(queued(db)) == 5


def test_ingest_without_subscribers_queues_nothing(admin: Api, db: Engine, site: dict[str, Any]) -> None:
    door = make_door(admin, site_id=site["id"])
    admin.ok(
        "POST",
        "/webhooks",
        201,
        json={"url": "https://h.example.com/", "kinds": ["log_gap"], "site_id": site["id"]},
    )
    ingest(db, door["id"], [[1, T0, "denied", "", "unknown_credential"]])
    assert queued(db) == []


def test_a_permission_version_step_is_queued_once_and_a_no_op_change_queues_nothing(
    admin: Api, db: Engine, site: dict[str, Any], hook: dict[str, Any]
) -> None:
    door = make_door(admin, "Lab", site_id=site["id"])
    user = make_user(admin, "Ana", site_id=site["id"], card=card_hex())
    assert queued(db) == []  # a new door starts at version 1: no step
    rule = make_rule(admin, user_id=user["id"], door_id=door["id"], site_id=site["id"])
    (message,) = queued(db)
    assert message["kind"] == "permission_change"
    assert message["data"] == {"door_id": door["id"], "door_name": "Lab", "version": 2}
    admin.ok("PATCH", f"/access-rules/{rule['id']}", json={"name": "renamed"})  # the list stays the same
    admin.ok("PATCH", f"/users/{user['id']}", json={"status": "suspended"})
    assert [m["data"]["version"] for m in queued(db)] == [2, 3]
    assert admin.ok("GET", f"/doors/{door['id']}")["permission_version"] == 3


def test_command_results_are_queued_when_a_command_reaches_its_end(
    admin: Api, db: Engine, site: dict[str, Any], hook: dict[str, Any]
) -> None:
    door = make_door(admin, site_id=site["id"])
    first = admin.ok("POST", f"/doors/{door['id']}/commands", 202, json={"action": "unlock"})
    second = admin.ok("POST", f"/doors/{door['id']}/commands", 202, json={"action": "lock"})
    with Session(db) as session:
        one, two = (session.get(Command, c["id"]) for c in (first, second))
        assert one is not None and two is not None
        assert set_command_status(session=session, command=one, status="sent")
        assert set_command_status(session=session, command=one, status="done")
        assert not set_command_status(session=session, command=one, status="failed", error="late")  # final
        two.expires_at = T0
        session.add(two)
        assert expire_commands(session=session, now=T0) == 1
        with pytest.raises(ValueError, match="unknown command status"):
            set_command_status(session=session, command=two, status="exploded")
        session.commit()
    results = [(m["kind"], m["data"]["command_id"], m["data"]["status"]) for m in queued(db)]
    assert results == [("command_result", first["id"], "done"), ("command_result", second["id"], "expired")]
    statuses = {
        c["id"]: (c["status"], c["expires_at"])
        for c in admin.ok("GET", f"/doors/{door['id']}/commands")["data"]
    }
    assert statuses == {first["id"]: ("done", 0), second["id"]: ("expired", T0)}


def test_gaps_and_lock_status_for_the_sync(
    admin: Api, db: Engine, site: dict[str, Any], hook: dict[str, Any]
) -> None:
    door_id = make_door(admin, "Back", site_id=site["id"])["id"]
    with Session(db) as session:
        door = session.get(Door, door_id)
        assert door is not None
        gap = record_gap(session=session, door=door, from_seq=10, to_seq=14, from_ts=T0, to_ts=T0 + 600)
        again = record_gap(session=session, door=door, from_seq=10, to_seq=14, from_ts=T0, to_ts=T0 + 600)
        assert again.id == gap.id
        with pytest.raises(ValueError, match="from_seq <= to_seq"):
            record_gap(session=session, door=door, from_seq=5, to_seq=4)
        lock_status_changed(session=session, door=door, online=False, at=T0 + 700)
        lock_status_changed(session=session, door=door, online=True, at=T0 + 800)
        session.commit()
        assert len(session.exec(select(EventGap)).all()) == 1
    kinds_and_data = [(m["kind"], m["data"]) for m in queued(db)]
    assert kinds_and_data[0] == (
        "log_gap",
        {
            "door_id": door_id,
            "door_name": "Back",
            "from_seq": 10,
            "to_seq": 14,
            "from_ts": T0,
            "to_ts": T0 + 600,
        },
    )
    assert [k for k, _ in kinds_and_data[1:]] == ["lock_offline", "lock_online"]
    assert kinds_and_data[1][1]["at"] == T0 + 700 and kinds_and_data[1][1]["online"] is False
