"""Every change operation of the API leaves an audit entry: who (key name, id), what, before/after, when."""

import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.cloud.conftest import API, Api, issue_key
from tests.cloud.helpers import card_hex, one_of_everything

HEADER = "type,external_id,name,email,group,kind,identifier,label\n"


def test_every_change_operation_is_audited(app: FastAPI, admin: Api, client: TestClient, db: Engine) -> None:
    site = admin.ok("POST", "/sites", 201, json={"name": "Audited"})
    ids = one_of_everything(admin, site["id"], "A")
    desk = Api(client, issue_key(db, "admin", site["id"], "desk admin"))
    spare_door = desk.ok("POST", "/doors", 201, json={"name": "Spare", "device_id": "lock-spare"})["id"]
    spare_user = desk.ok("POST", "/users", 201, json={"name": "Spare"})["id"]
    i = {**ids, "spare_door": spare_door, "spare_user": spare_user}
    steps: list[tuple[str, str, str, Any, str]] = [
        # (method, OpenAPI path, concrete path, body, audited entity)
        ("patch", "/sites/{site_id}", f"/sites/{i['site_id']}", {"name": "Audited HQ"}, "site"),
        ("post", "/doors", "/doors", {"name": "New", "device_id": "lock-new"}, "door"),
        ("patch", "/doors/{door_id}", f"/doors/{i['door_id']}", {"name": "Renamed"}, "door"),
        (
            "post",
            "/doors/{door_id}/commands",
            f"/doors/{i['door_id']}/commands",
            {"action": "unlock"},
            "door",
        ),
        ("post", "/zones", "/zones", {"name": "New zone"}, "zone"),
        ("patch", "/zones/{zone_id}", f"/zones/{i['zone_id']}", {"name": "Renamed"}, "zone"),
        (
            "put",
            "/zones/{zone_id}/doors/{door_id}",
            f"/zones/{i['zone_id']}/doors/{spare_door}",
            None,
            "zone",
        ),
        (
            "delete",
            "/zones/{zone_id}/doors/{door_id}",
            f"/zones/{i['zone_id']}/doors/{spare_door}",
            None,
            "zone",
        ),
        ("post", "/users", "/users", {"name": "New"}, "user"),
        ("patch", "/users/{user_id}", f"/users/{i['user_id']}", {"status": "suspended"}, "user"),
        ("post", "/groups", "/groups", {"name": "New group"}, "group"),
        ("patch", "/groups/{group_id}", f"/groups/{i['group_id']}", {"description": "x"}, "group"),
        (
            "put",
            "/groups/{group_id}/members/{user_id}",
            f"/groups/{i['group_id']}/members/{spare_user}",
            None,
            "group",
        ),
        (
            "delete",
            "/groups/{group_id}/members/{user_id}",
            f"/groups/{i['group_id']}/members/{spare_user}",
            None,
            "group",
        ),
        (
            "post",
            "/credentials",
            "/credentials",
            {"user_id": spare_user, "kind": "felica", "identifier": card_hex()},
            "credential",
        ),
        (
            "patch",
            "/credentials/{credential_id}",
            f"/credentials/{i['credential_id']}",
            {"label": "x"},
            "credential",
        ),
        (
            "post",
            "/access-rules",
            "/access-rules",
            {"user_id": spare_user, "door_id": spare_door},
            "access_rule",
        ),
        (
            "post",
            "/users/{user_id}/mobile-keys",
            f"/users/{spare_user}/mobile-keys",
            {"door_id": spare_door},
            "mobile_key",
        ),
        (
            "delete",
            "/users/{user_id}/mobile-keys/{mobile_key_id}",
            f"/users/{i['user_id']}/mobile-keys/{i['mobile_key_id']}",
            None,
            "mobile_key",
        ),
        (
            "patch",
            "/access-rules/{rule_id}",
            f"/access-rules/{i['rule_id']}",
            {"enabled": False},
            "access_rule",
        ),
        ("post", "/doors/{door_id}/provision", f"/doors/{i['door_id']}/provision", None, "door"),
        ("post", "/doors/{door_id}/rotate-secret", f"/doors/{i['door_id']}/rotate-secret", None, "door"),
        ("post", "/sites/{site_id}/rotate-key", f"/sites/{i['site_id']}/rotate-key", None, "site"),
        ("post", "/doors/{door_id}/retire", f"/doors/{i['door_id']}/retire", None, "door"),
        ("post", "/import", "/import", {"csv": HEADER + "user,E1,Imported,,,,,\n"}, "user"),
        (
            "post",
            "/api-keys",
            "/api-keys",
            {"name": "kiosk", "role": "viewer", "site_id": i["site_id"]},
            "api_key",
        ),
        ("delete", "/api-keys/{key_id}", f"/api-keys/{i['key_id']}", None, "api_key"),
        (
            "post",
            "/webhooks",
            "/webhooks",
            {"url": "https://hooks.example.com/n", "kinds": ["log_gap"]},
            "webhook",
        ),
        ("patch", "/webhooks/{webhook_id}", f"/webhooks/{i['webhook_id']}", {"enabled": False}, "webhook"),
        ("post", "/webhooks/{webhook_id}/ping", f"/webhooks/{i['webhook_id']}/ping", None, "webhook"),
        ("delete", "/webhooks/{webhook_id}", f"/webhooks/{i['webhook_id']}", None, "webhook"),
        ("delete", "/access-rules/{rule_id}", f"/access-rules/{i['rule_id']}", None, "access_rule"),
        ("delete", "/credentials/{credential_id}", f"/credentials/{i['credential_id']}", None, "credential"),
        ("delete", "/groups/{group_id}", f"/groups/{i['group_id']}", None, "group"),
        ("delete", "/zones/{zone_id}", f"/zones/{i['zone_id']}", None, "zone"),
        ("delete", "/users/{user_id}", f"/users/{i['user_id']}", None, "user"),
        ("delete", "/doors/{door_id}", f"/doors/{i['door_id']}", None, "door"),
    ]
    # Sites are created and deleted only by a global admin.
    global_steps = [
        ("post", "/sites", "/sites", {"name": "Short-lived"}, "site"),
        ("delete", "/sites/{site_id}", None, None, "site"),
    ]
    # Other systems' calls, with an integration key.
    connector = desk.ok(
        "POST",
        "/api-keys",
        201,
        json={
            "name": "connector",
            "role": "integration",
            "site_id": i["site_id"],
            "scopes": ["members", "verifications"],
        },
    )
    desk.ok("PATCH", f"/doors/{spare_door}", json={"face_threshold": 0.5})
    verification = {"user_id": spare_user, "door_id": spare_door, "confidence": 0.9, "terminal_id": "cam"}
    integration_steps = [
        (
            "put",
            "/integrations/members/{external_id}",
            "/integrations/members/X-1",
            {"name": "Member"},
            "user",
        ),
        ("post", "/integrations/verifications", "/integrations/verifications", verification, "door"),
    ]
    every_change = {
        (method, path[len(API) :])
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(API)
        for method in operations
        if method != "get"
    }
    assert every_change == {(m, p) for m, p, *_ in steps + global_steps + integration_steps}
    created_site = None
    plans = (
        (Api(client, connector["key"]), "connector", integration_steps),
        (desk, "desk admin", steps),
        (admin, "root", global_steps),
    )
    for caller, actor, plan in plans:
        for method, _, path, body, entity in plan:
            if path is None:  # delete the site made by the previous step
                path = f"/sites/{created_site}"
            last = admin.ok("GET", "/audit", params={"limit": 1})["data"][0]["id"]
            started = int(time.time())
            answer = _call(caller, method, path, body)
            if path == "/sites":
                created_site = answer["id"]
            new = [e for e in admin.ok("GET", "/audit", params={"limit": 500})["data"] if e["id"] > last]
            assert new, (method, path)
            assert all(e["actor"] == actor and e["actor_key_id"] is not None for e in new), (method, path)
            assert entity in {e["entity"] for e in new}, (method, path, new)
            assert all(e["at"] >= started - 1 for e in new)
            mine = next(e for e in new if e["entity"] == entity)
            assert mine["before"] is not None or mine["after"] is not None, (method, path)


def _call(api: Api, method: str, path: str, body: Any) -> Any:
    response = api.request(method.upper(), path, json=body)
    assert 200 <= response.status_code < 300, (method, path, response.text)
    return response.json() if response.content else None
