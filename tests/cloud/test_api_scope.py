"""Another site's objects, on every endpoint: 404 exactly like an unknown id, never 403, and nothing written.

The endpoints are read from the app's OpenAPI schema, so a new endpoint with an id in its path fails
this test until it is listed here (and so checked).
"""

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.cloud.conftest import API, Api, issue_key
from tests.cloud.helpers import card_hex, database_state, ingest, one_of_everything

UNKNOWN = 2**31 - 1  # a valid id that exists nowhere


# What each operation needs besides its ids so that only the id can make it fail.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("patch", "/sites/{site_id}"): {"json": {"name": "taken over"}},
    ("patch", "/doors/{door_id}"): {"json": {"name": "taken over"}},
    ("patch", "/zones/{zone_id}"): {"json": {"name": "taken over"}},
    ("patch", "/users/{user_id}"): {"json": {"name": "taken over"}},
    ("patch", "/groups/{group_id}"): {"json": {"name": "taken over"}},
    ("patch", "/credentials/{credential_id}"): {"json": {"label": "taken over"}},
    ("patch", "/access-rules/{rule_id}"): {"json": {"name": "taken over"}},
    ("post", "/doors/{door_id}/commands"): {"json": {"action": "unlock"}},
    ("get", "/zones/{zone_id}/presence"): {"params": {"since": 0}},
    ("patch", "/webhooks/{webhook_id}"): {"json": {"description": "taken over"}},
    ("post", "/users/{user_id}/mobile-keys"): {"json": {"door_id": 1}},
}


# Paths whose parameter is not the id of a site's object: an external id names a member of the calling
# integration key's own site (a new member if unknown); test_integrations_members checks that another
# site's members stay out of reach.
NOT_IDS = {("put", "/integrations/members/{external_id}")}


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return [
        (method, path[len(API) :])
        for path, operations in paths.items()
        if "{" in path
        for method in operations
        if (method, path[len(API) :]) not in NOT_IDS
    ]


@pytest.fixture
def two_sites(admin: Api, client: TestClient, db: Engine) -> tuple[Api, dict[str, int], dict[str, int]]:
    """A site-bound admin of site A (the strongest role, so no 403 can hide a leak), A's and B's objects."""
    site_a = admin.ok("POST", "/sites", 201, json={"name": "A"})
    site_b = admin.ok("POST", "/sites", 201, json={"name": "B"})
    mine, theirs = one_of_everything(admin, site_a["id"], "A"), one_of_everything(admin, site_b["id"], "B")
    ingest(db, theirs["door_id"], [[1, 1_790_000_000, "granted", theirs["cred_hash"], ""]])
    return Api(client, issue_key(db, "admin", site_a["id"], "site A admin")), mine, theirs


def test_every_id_in_a_path_of_another_site_is_404_and_writes_nothing(
    app: FastAPI, db: Engine, two_sites: tuple[Api, dict[str, int], dict[str, int]]
) -> None:
    caller, mine, theirs = two_sites
    operations = _operations(app)
    assert len(operations) >= 25 and all(op in operations for op in BODIES)
    before = database_state(db)
    checked = 0
    for method, template in operations:
        extra = BODIES.get((method, template), {})
        names = re.findall(r"{(\w+)}", template)
        # Every id of the other site; for nested paths also each mix of the caller's and the other's ids.
        variants = [{name: theirs[name] for name in names}]
        if len(names) == 2:
            variants += [{names[0]: mine[names[0]], names[1]: theirs[names[1]]}]
            variants += [{names[0]: theirs[names[0]], names[1]: mine[names[1]]}]
        for ids in variants:
            response = caller.request(method.upper(), template.format(**ids), **extra)
            assert response.status_code == 404, (method, template, ids, response.text)
            # Indistinguishable from an id that exists nowhere: same status, same message but for the id.
            nowhere = {name: UNKNOWN if value == theirs[name] else value for name, value in ids.items()}
            twin = caller.request(method.upper(), template.format(**nowhere), **extra)
            assert twin.status_code == 404, (method, template, twin.text)
            assert _shape(response.json()) == _shape(twin.json()), (method, template)
            checked += 1
    assert checked >= 30
    assert database_state(db) == before  # not one row, audit included


def _shape(answer: Any) -> str:
    return re.sub(r"\d+", "N", str(answer))


def test_filters_bodies_and_exports_naming_another_site_reveal_nothing(
    db: Engine, two_sites: tuple[Api, dict[str, int], dict[str, int]]
) -> None:
    caller, mine, theirs = two_sites
    before = database_state(db)
    for path, params in (
        ("/events", {"door_id": theirs["door_id"]}),
        ("/events", {"zone_id": theirs["zone_id"]}),
        ("/events", {"user_id": theirs["user_id"]}),
        ("/events", {"site_id": theirs["site_id"]}),
        ("/credentials", {"user_id": theirs["user_id"]}),
        ("/access-rules", {"door_id": theirs["door_id"]}),
        ("/doors", {"site_id": theirs["site_id"]}),
        ("/audit", {"site_id": theirs["site_id"]}),
    ):
        data = caller.ok("GET", path, params=params)["data"]
        assert all(item.get("site_id") == mine["site_id"] for item in data), (path, params)
        assert not [item for item in data if item.get("site_id") == theirs["site_id"]], (path, params)
    export = caller.get("/events/export.csv", params={"door_id": theirs["door_id"]})
    assert export.status_code == 200 and export.text.count("\n") == 1  # the header only
    # Bodies naming the other site or its objects: refused on the field, exactly like an unknown id.
    empty_csv = "type,external_id,name,email,group,kind,identifier,label\n"
    for path, body, field in (
        ("/import", {"csv": empty_csv, "site_id": theirs["site_id"]}, "site_id"),
        ("/doors", {"name": "x", "device_id": "lock-intruder", "site_id": theirs["site_id"]}, "site_id"),
        ("/users", {"name": "x", "site_id": theirs["site_id"]}, "site_id"),
        ("/api-keys", {"name": "x", "role": "viewer", "site_id": theirs["site_id"]}, "site_id"),
        (
            "/credentials",
            {"kind": "felica", "identifier": card_hex(), "user_id": theirs["user_id"]},
            "user_id",
        ),
        ("/access-rules", {"user_id": mine["user_id"], "door_id": theirs["door_id"]}, "door_id"),
        ("/access-rules", {"group_id": theirs["group_id"], "door_id": mine["door_id"]}, "group_id"),
        ("/zones", {"name": "x", "door_ids": [theirs["door_id"]]}, "door_ids.0"),
        ("/groups", {"name": "x", "user_ids": [theirs["user_id"]]}, "user_ids.0"),
    ):
        key = field.split(".")[0]
        twin_body = {**body, key: [UNKNOWN] if isinstance(body[key], list) else UNKNOWN}
        response, twin = caller.post(path, json=body), caller.post(path, json=twin_body)
        assert response.status_code == twin.status_code == 422, (path, response.text, twin.text)
        assert response.json()["detail"][0]["loc"] == twin.json()["detail"][0]["loc"] == ["body", field]
        assert _shape(response.json()) == _shape(twin.json()), path
    assert database_state(db) == before


def test_a_viewer_changes_nothing_anywhere(
    app: FastAPI, client: TestClient, db: Engine, two_sites: tuple[Api, dict[str, int], dict[str, int]]
) -> None:
    """Every operation that is not a GET answers 403 to a viewer of the site, on the site's own objects."""
    _, mine, _ = two_sites
    viewer = Api(client, issue_key(db, "viewer", mine["site_id"], "wallboard"))
    paths = app.openapi()["paths"]
    changes = [
        (method, path[len(API) :])
        for path, operations in paths.items()
        if path.startswith(API)
        for method in operations
        if method != "get"
    ]
    assert len(changes) >= 20
    before = database_state(db)
    for method, template in changes:
        extra = BODIES.get((method, template), {"json": {}})
        response = viewer.request(method.upper(), template.format(**mine), **extra)
        assert response.status_code == 403, (method, template, response.text)
    assert database_state(db) == before
    # Reading stays allowed.
    assert viewer.ok("GET", f"/doors/{mine['door_id']}")["id"] == mine["door_id"]


def test_openapi_document_and_docs_page_are_served(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] and "/api/v1/doors/{door_id}/who-can-enter" in schema["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
