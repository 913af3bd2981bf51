"""Integration keys: scoped, bound to a site, rate limited per key, revocable, and kept out of the operators'
endpoints (operators' keys likewise kept out of /integrations)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cloud.auth.ratelimit import KeyRateLimiter
from cloud.db import make_engine
from tests.cloud.conftest import Api, issue_key
from tests.cloud.webhooks_kit import REPO, FakeClock

MEMBER = {"name": "Member One"}
VERIFICATION_PATH = "/integrations/verifications"


def integration_key(admin: Api, client: TestClient, site_id: int, scopes: list[str], **fields: Any) -> Api:
    body = {"name": "billing", "role": "integration", "site_id": site_id, "scopes": scopes, **fields}
    issued = admin.ok("POST", "/api-keys", 201, json=body)
    assert issued["scopes"] == scopes
    return Api(client, issued["key"])


def test_integration_keys_need_a_site_and_scopes_and_other_keys_have_none(
    admin: Api, site: dict[str, Any]
) -> None:
    for body, field in (
        ({"role": "integration", "scopes": ["members"]}, "site_id"),
        ({"role": "integration", "site_id": site["id"], "scopes": []}, "scopes"),
        ({"role": "integration", "site_id": site["id"], "scopes": ["members", "members"]}, "scopes"),
        ({"role": "operator", "site_id": site["id"], "scopes": ["members"]}, "scopes"),
        ({"role": "viewer", "site_id": site["id"], "rate_limit_per_min": 5}, "rate_limit_per_min"),
    ):
        response = admin.post("/api-keys", json={"name": "x", **body})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", field]
    bad_scope = admin.post(
        "/api-keys", json={"name": "x", "role": "integration", "site_id": site["id"], "scopes": ["all"]}
    )
    assert bad_scope.status_code == 422


def test_scopes_keep_each_key_to_its_own_calls(
    admin: Api, client: TestClient, db: Engine, site: dict[str, Any]
) -> None:
    billing = integration_key(admin, client, site["id"], ["members"])
    terminal = integration_key(admin, client, site["id"], ["verifications"])
    operator = Api(client, issue_key(db, "admin", site["id"], "site admin"))
    assert billing.put("/integrations/members/M-1", json=MEMBER).status_code == 201
    assert terminal.put("/integrations/members/M-2", json=MEMBER).status_code == 403
    assert operator.put("/integrations/members/M-3", json=MEMBER).status_code == 403
    body = {"external_id": "M-1", "door_id": 1, "confidence": 0.99, "terminal_id": "t1"}
    assert billing.post(VERIFICATION_PATH, json=body).status_code == 403
    assert operator.post(VERIFICATION_PATH, json=body).status_code == 403
    for api in (billing, terminal):  # integration keys never reach the operators' API
        for path in ("/users", "/doors", "/events", "/audit", "/api-keys", "/webhooks"):
            response = api.get(path)
            assert response.status_code == 403 and "integration key" in response.text, path
        assert api.post("/users", json={"name": "x"}).status_code == 403
    assert Api(client, None).put("/integrations/members/M-4", json=MEMBER).status_code == 401


def test_a_revoked_key_is_refused_at_once(admin: Api, client: TestClient, site: dict[str, Any]) -> None:
    billing = integration_key(admin, client, site["id"], ["members"])
    assert billing.put("/integrations/members/M-1", json=MEMBER).status_code == 201
    key_id = next(k["id"] for k in admin.ok("GET", "/api-keys")["data"] if k["role"] == "integration")
    admin.ok("DELETE", f"/api-keys/{key_id}", 204)
    assert billing.put("/integrations/members/M-1", json=MEMBER).status_code == 401


def test_each_key_has_its_own_rate_limit(admin: Api, client: TestClient, site: dict[str, Any]) -> None:
    slow = integration_key(admin, client, site["id"], ["members"], rate_limit_per_min=3)
    other = integration_key(admin, client, site["id"], ["members"], rate_limit_per_min=3)
    for number in range(3):
        assert slow.put(f"/integrations/members/S-{number}", json=MEMBER).status_code == 201
    refused = slow.put("/integrations/members/S-9", json=MEMBER)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "3 requests per minute" in refused.text
    assert other.put("/integrations/members/O-1", json=MEMBER).status_code == 201  # its own bucket
    assert admin.ok("GET", "/users", params={"external_id": "S-9"})["count"] == 0  # refused: nothing written


def test_the_token_bucket_refills_with_time() -> None:
    clock = FakeClock(1000.0)
    limiter = KeyRateLimiter(clock=clock)
    assert [limiter.take(1, 60) for _ in range(60)] == [0] * 60
    assert limiter.take(1, 60) == 1  # one token per second at 60/min
    clock.advance(0.5)
    assert limiter.take(1, 60) == 1
    clock.advance(0.5)
    assert limiter.take(1, 60) == 0 and limiter.take(2, 60) == 0
    clock.advance(3600)
    assert [limiter.take(1, 60) for _ in range(61)].count(0) == 60  # a burst never exceeds the limit
    slow = KeyRateLimiter(clock=clock)
    assert slow.take(7, 2) == 0 and slow.take(7, 2) == 0 and slow.take(7, 2) == 30


def test_integration_calls_are_audited_with_the_key_as_actor(
    admin: Api, client: TestClient, site: dict[str, Any]
) -> None:
    billing = integration_key(admin, client, site["id"], ["members"])
    billing.put("/integrations/members/M-1", json=MEMBER)
    (entry,) = admin.ok("GET", "/audit", params={"entity": "user"})["data"]
    assert entry["actor_kind"] == "integration" and entry["actor"] == "billing" and entry["actor_key_id"]
    assert entry["action"] == "upsert" and entry["before"] is None and entry["after"]["external_id"] == "M-1"


def test_the_cli_issues_integration_keys(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/cloud.db", "PYTHONPATH": str(REPO)}

    def cloud(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cloud", *args]
        return subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert cloud("db", "upgrade").returncode == 0
    engine = make_engine(env["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO site (name, timezone, site_key_sealed, created_at) VALUES ('S', 'UTC', '', 0)")
        )
    issued = cloud(
        "keys", "create", "--role", "integration", "--site", "1", "--scope", "members", "--name", "crm"
    )
    assert issued.returncode == 0 and issued.stdout.strip().startswith("oak_"), issued.stderr
    with engine.connect() as connection:
        row = connection.execute(text("SELECT role, scopes, rate_limit_per_min FROM api_key")).one()
    assert (row[0], json.loads(row[1]) if isinstance(row[1], str) else row[1], row[2]) == (
        "integration",
        ["members"],
        None,
    )
    for args, message in (
        (("--role", "integration", "--site", "1"), "scopes"),
        (("--role", "integration", "--scope", "members"), "site_id"),
        (("--role", "viewer", "--site", "1", "--scope", "members"), "scopes"),
    ):
        refused = cloud("keys", "create", "--name", "x", *args)
        assert refused.returncode == 2 and message in refused.stderr, (args, refused.stderr)
    engine.dispose()
