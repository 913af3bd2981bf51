"""/webhooks: registration (secret once, sealed at rest), URL policy, roles; the outbox joins its cause."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from cloud.integrations.webhooks.kinds import KINDS
from cloud.integrations.webhooks.models import WebhookDelivery
from cloud.integrations.webhooks.outbox import emit
from cloud.main import create_app
from cloud.settings import Settings
from tests.cloud.conftest import Api, issue_key
from tests.cloud.helpers import database_state

PUBLIC_URL = "https://hooks.example.com/openakerun"


@pytest.fixture
def webhook(admin: Api, site: dict[str, Any]) -> dict[str, Any]:
    body = {"url": PUBLIC_URL, "kinds": ["entry_granted", "entry_denied"], "site_id": site["id"]}
    return admin.ok("POST", "/webhooks", 201, json=body)


def _deliveries(session: Session) -> list[WebhookDelivery]:
    return list(session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all())  # type: ignore[arg-type]


def test_the_secret_is_shown_once_and_stored_sealed(admin: Api, db: Engine, webhook: dict[str, Any]) -> None:
    secret = webhook["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    shown = admin.ok("GET", f"/webhooks/{webhook['id']}")
    listed = admin.ok("GET", "/webhooks")
    assert (
        "secret" not in shown and secret not in str(listed) and secret not in str(admin.ok("GET", "/audit"))
    )
    assert shown["pending"] == 0 and shown["kinds"] == ["entry_granted", "entry_denied"]
    dump = str(database_state(db))
    assert secret not in dump and secret[6:] not in dump
    with db.connect() as connection:
        sealed = connection.execute(text("SELECT secret_sealed FROM webhook_endpoint")).scalar_one()
    assert sealed.startswith("v1.")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "https://"),
        ("https://127.0.0.1/x", "private"),
        ("https://[::1]/x", "private"),
        ("https://10.1.2.3/x", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://[::ffff:192.168.1.1]/x", "private"),
        ("https://user:pw@hooks.example.com/x", "no user or password"),
        ("https:///x", "no host"),
        ("ftp://hooks.example.com/x", "https://"),
    ],
)
def test_urls_the_cloud_must_not_call_are_refused(
    admin: Api, site: dict[str, Any], db: Engine, url: str, reason: str
) -> None:
    before = database_state(db)
    response = admin.post("/webhooks", json={"url": url, "kinds": ["log_gap"], "site_id": site["id"]})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "url"] and reason in response.text
    assert database_state(db) == before


def test_a_lab_may_allow_http_and_private_addresses(db: Engine) -> None:
    lab = create_app(Settings(webhook_allow_http=True, webhook_allow_private_networks=True), engine=db)
    with TestClient(lab) as client:
        root = Api(client, issue_key(db, "admin", None, "lab"))
        site = root.ok("POST", "/sites", 201, json={"name": "Lab"})
        body = {"url": "http://127.0.0.1:9/x", "kinds": ["log_gap"], "site_id": site["id"]}
        assert root.ok("POST", "/webhooks", 201, json=body)["url"] == "http://127.0.0.1:9/x"


def test_kinds_must_be_known_and_listed_once(admin: Api, site: dict[str, Any]) -> None:
    for kinds in ([], ["entry_granted", "entry_granted"], ["ping"], ["everything"]):
        response = admin.post("/webhooks", json={"url": PUBLIC_URL, "kinds": kinds, "site_id": site["id"]})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][:2] == ["body", "kinds"]
    every = admin.ok(
        "POST", "/webhooks", 201, json={"url": PUBLIC_URL, "kinds": list(KINDS), "site_id": site["id"]}
    )
    assert every["kinds"] == list(KINDS)


def test_only_admins_manage_webhooks(
    client: TestClient, db: Engine, operator: Api, site: dict[str, Any], webhook: dict[str, Any]
) -> None:
    viewer = Api(client, issue_key(db, "viewer", site["id"], "wall"))
    for api in (operator, viewer):
        assert api.get("/webhooks").status_code == 403
        assert api.get(f"/webhooks/{webhook['id']}").status_code == 403
        assert api.post("/webhooks", json={"url": PUBLIC_URL, "kinds": ["log_gap"]}).status_code == 403
    site_admin = Api(client, issue_key(db, "admin", site["id"], "site admin"))
    assert site_admin.ok("GET", "/webhooks")["count"] == 1


def test_update_ping_and_delete_are_audited_and_a_no_op_writes_nothing(
    admin: Api, db: Engine, webhook: dict[str, Any]
) -> None:
    path = f"/webhooks/{webhook['id']}"
    before = database_state(db)
    admin.ok("PATCH", path, json={"kinds": ["entry_granted", "entry_denied"]})
    assert database_state(db) == before
    assert admin.ok("PATCH", path, json={"enabled": False})["enabled"] is False
    ping = admin.ok("POST", f"{path}/ping", 202)
    assert ping["kind"] == "ping" and ping["status"] == "pending"
    deliveries = admin.ok("GET", f"{path}/deliveries")
    assert deliveries["count"] == 1 and deliveries["data"][0]["delivery_id"] == ping["delivery_id"]
    detail = admin.ok("GET", f"{path}/deliveries/{ping['id']}")
    assert detail["attempt_log"] == [] and '"kind":"ping"' in detail["body"]
    admin.ok("DELETE", path, 204)
    assert admin.get(path).status_code == 404
    actions = [e["action"] for e in admin.ok("GET", "/audit", params={"entity": "webhook"})["data"]]
    assert actions == ["delete", "ping", "update", "create"]
    with Session(db) as session:
        assert _deliveries(session) == []


def test_emit_queues_one_delivery_per_subscribed_enabled_endpoint_inside_the_transaction(
    admin: Api, db: Engine, site: dict[str, Any], webhook: dict[str, Any]
) -> None:
    other = admin.ok(
        "POST", "/webhooks", 201, json={"url": PUBLIC_URL, "kinds": ["log_gap"], "site_id": site["id"]}
    )
    off = admin.ok(
        "POST",
        "/webhooks",
        201,
        json={"url": PUBLIC_URL, "kinds": ["log_gap"], "site_id": site["id"], "enabled": False},
    )
    with Session(db) as session:
        assert emit(session=session, site_id=site["id"], kind="log_gap", payload={"door_id": 1}) == 1
        session.rollback()  # the cause failed: its webhooks go with it
        assert _deliveries(session) == []
        assert emit(session=session, site_id=site["id"], kind="entry_granted", payload={"n": 1}) == 1
        assert emit(session=session, site_id=site["id"] + 1, kind="entry_granted", payload={"n": 2}) == 0
        with pytest.raises(ValueError, match="unknown webhook kind"):
            emit(session=session, site_id=site["id"], kind="entry_granted_typo", payload={})
        session.commit()
        rows = _deliveries(session)
    assert [(row.endpoint_id, row.kind) for row in rows] == [(webhook["id"], "entry_granted")]
    assert off["id"] != other["id"]
    body = rows[0].body
    assert body.startswith('{"created_at":') and f'"id":"{rows[0].delivery_id}"' in body
    assert '"data":{"n":1}' in body and f'"site_id":{site["id"]}' in body


def test_another_sites_admin_cannot_see_or_touch_an_endpoint(
    admin: Api, client: TestClient, db: Engine, webhook: dict[str, Any]
) -> None:
    other_site = admin.ok("POST", "/sites", 201, json={"name": "Elsewhere"})
    stranger = Api(client, issue_key(db, "admin", other_site["id"], "stranger"))
    assert stranger.ok("GET", "/webhooks")["count"] == 0
    for method in ("GET", "PATCH", "DELETE"):
        assert stranger.request(method, f"/webhooks/{webhook['id']}", json={}).status_code == 404
    assert stranger.post(f"/webhooks/{webhook['id']}/ping").status_code == 404


def test_deleting_a_site_deletes_its_webhooks_and_their_queues(
    admin: Api, db: Engine, site: dict[str, Any], webhook: dict[str, Any]
) -> None:
    admin.ok("POST", f"/webhooks/{webhook['id']}/ping", 202)
    admin.ok("DELETE", f"/sites/{site['id']}", 204)
    assert admin.ok("GET", "/webhooks")["count"] == 0
    with Session(db) as session:
        assert _deliveries(session) == []
