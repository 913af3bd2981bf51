"""Remote commands are recorded as pending, audited, listed newest first."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from cloud.commands.service import pending_commands
from tests.cloud.conftest import Api, issue_key
from tests.cloud.helpers import make_door


def test_commands_are_recorded_pending(operator: Api, db: Engine, admin: Api) -> None:
    door = make_door(operator)
    unlock = operator.ok("POST", f"/doors/{door['id']}/commands", 202, json={"action": "unlock"})
    lock = operator.ok("POST", f"/doors/{door['id']}/commands", 202, json={"action": "lock"})
    assert unlock["status"] == "pending" and unlock["created_by"] == "desk" and len(unlock["wire_id"]) == 36
    listed = operator.ok("GET", f"/doors/{door['id']}/commands")
    assert listed["count"] == 2 and [c["id"] for c in listed["data"]] == [lock["id"], unlock["id"]]
    with Session(db) as session:
        assert [c.id for c in pending_commands(session=session, door_id=door["id"])] == [
            unlock["id"],
            lock["id"],
        ]
    audit = admin.ok("GET", "/audit", params={"entity": "door"})["data"]
    assert audit[0]["action"] == "command" and audit[0]["after"]["action"] == "lock"


def test_bad_and_forbidden_commands(
    operator: Api, client: TestClient, db: Engine, site: dict[str, Any]
) -> None:
    door = make_door(operator)
    response = operator.post(f"/doors/{door['id']}/commands", json={"action": "explode"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "action"]
    assert operator.post("/doors/424242/commands", json={"action": "unlock"}).status_code == 404
    viewer = Api(client, issue_key(db, "viewer", site["id"]))
    assert viewer.post(f"/doors/{door['id']}/commands", json={"action": "unlock"}).status_code == 403
    assert operator.ok("GET", f"/doors/{door['id']}/commands")["count"] == 0
