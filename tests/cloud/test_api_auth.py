"""Keys, roles and scopes: 401, 403, 404 for other sites' objects, 429 for key guessing."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.cloud.conftest import Api, issue_key
from tests.cloud.helpers import make_door, make_user


def test_missing_and_invalid_keys_get_401(client: TestClient) -> None:
    assert Api(client, None).get("/sites").status_code == 401
    response = Api(client, "oak_not-a-real-key").get("/sites")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_viewer_reads_but_cannot_change(
    client: TestClient, db: Engine, site: dict[str, Any], operator: Api
) -> None:
    make_door(operator, "Front")
    viewer = Api(client, issue_key(db, "viewer", site["id"]))
    assert viewer.ok("GET", "/doors")["count"] == 1
    assert viewer.post("/doors", json={"name": "X", "device_id": "lock-x"}).status_code == 403
    assert viewer.post("/users", json={"name": "X"}).status_code == 403
    assert viewer.ok("GET", "/doors")["count"] == 1


def test_other_sites_objects_are_404_and_invisible(admin: Api, client: TestClient, db: Engine) -> None:
    site_a = admin.ok("POST", "/sites", 201, json={"name": "A"})
    site_b = admin.ok("POST", "/sites", 201, json={"name": "B"})
    op_a = Api(client, issue_key(db, "operator", site_a["id"]))
    op_b = Api(client, issue_key(db, "operator", site_b["id"]))
    door_b = make_door(op_b, "B door")
    user_b = make_user(op_b, "Bob")
    for path in (
        f"/doors/{door_b['id']}",
        f"/users/{user_b['id']}",
        f"/sites/{site_b['id']}",
        f"/doors/{door_b['id']}/effective-permissions",
        f"/doors/{door_b['id']}/who-can-enter",
    ):
        assert op_a.get(path).status_code == 404, path
    assert op_a.get("/doors/999999").json() == {"detail": "door 999999 not found"}
    assert op_a.get(f"/doors/{door_b['id']}").json() == {"detail": f"door {door_b['id']} not found"}
    assert op_a.patch(f"/doors/{door_b['id']}", json={"name": "mine"}).status_code == 404
    assert op_a.delete(f"/users/{user_b['id']}").status_code == 404
    assert op_a.ok("GET", "/doors")["count"] == 0
    assert [s["id"] for s in op_a.ok("GET", "/sites")["data"]] == [site_a["id"]]
    # Referring to another site's user in a body is refused like an unknown id.
    response = op_a.post(
        "/credentials", json={"user_id": user_b["id"], "kind": "felica", "identifier": "0102030405060708"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "user_id"]
    # A site-bound key cannot create objects in another site.
    assert (
        op_a.post("/doors", json={"name": "x", "device_id": "lock-zz", "site_id": site_b["id"]}).status_code
        == 422
    )
    assert admin.ok("GET", f"/doors/{door_b['id']}")["name"] == "B door"


def test_only_global_admin_creates_sites(client: TestClient, db: Engine, site: dict[str, Any]) -> None:
    site_admin = Api(client, issue_key(db, "admin", site["id"]))
    assert site_admin.post("/sites", json={"name": "Mine"}).status_code == 403
    assert site_admin.ok("PATCH", f"/sites/{site['id']}", json={"name": "Renamed"})["name"] == "Renamed"
    operator = Api(client, issue_key(db, "operator", site["id"]))
    assert operator.patch(f"/sites/{site['id']}", json={"name": "x"}).status_code == 403


def test_repeated_bad_keys_get_429_then_nothing_passes(client: TestClient, admin: Api) -> None:
    bad = Api(client, "oak_guess")
    statuses = [bad.get("/sites").status_code for _ in range(7)]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    blocked = admin.get("/sites")  # same client address: refused while the window lasts
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1


def test_api_keys_issued_once_and_revocable(admin: Api, client: TestClient, site: dict[str, Any]) -> None:
    issued = admin.ok(
        "POST", "/api-keys", 201, json={"name": "kiosk", "role": "viewer", "site_id": site["id"]}
    )
    assert issued["key"].startswith("oak_")
    listed = admin.ok("GET", "/api-keys")["data"]
    assert all("key" not in item and "key_hash" not in item for item in listed)
    kiosk = Api(client, issued["key"])
    assert kiosk.ok("GET", "/doors")["count"] == 0
    admin.ok("DELETE", f"/api-keys/{issued['id']}", 204)
    assert kiosk.get("/doors").status_code == 401


def test_site_admin_cannot_issue_global_keys(client: TestClient, db: Engine, site: dict[str, Any]) -> None:
    site_admin = Api(client, issue_key(db, "admin", site["id"]))
    assert site_admin.post("/api-keys", json={"name": "x", "role": "admin"}).status_code == 403
    assert site_admin.ok(
        "POST", "/api-keys", 201, json={"name": "x", "role": "viewer", "site_id": site["id"]}
    )
