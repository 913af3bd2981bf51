"""The worked examples of docs/INTEGRATIONS.md, run as written against a real server.

(The receiver example is run by test_webhooks_delivery.py.)"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from tests.cloud.conftest import Api
from tests.cloud.helpers import card_hex, make_door, make_rule
from tests.cloud.webhooks_kit import docs_example, docs_namespace, serve


def _invoice(kind: str, card: str, period_end: int) -> dict[str, Any]:
    customer = {"id": "cus_42", "name": "Aiko Tanaka", "email": "aiko@example.com", "cards": [card]}
    return {"type": kind, "data": {"customer": customer, "plan": "premium", "period_end": period_end}}


def test_the_payment_bridge_opens_on_payment_and_closes_on_a_failed_one(
    app: FastAPI, admin: Api, site: dict[str, Any], tmp_path: Path
) -> None:
    door = make_door(admin, "Sauna", site_id=site["id"])
    for name in ("Members", "Sauna"):
        group = admin.ok("POST", "/groups", 201, json={"name": name, "site_id": site["id"]})
    make_rule(admin, group_id=group["id"], door_id=door["id"], site_id=site["id"])
    key = admin.ok(
        "POST",
        "/api-keys",
        201,
        json={"name": "payments", "role": "integration", "site_id": site["id"], "scopes": ["members"]},
    )["key"]
    bridge = docs_namespace("payment")
    card, period_end = card_hex(), int(time.time()) + 30 * 86400
    who = f"/doors/{door['id']}/who-can-enter"
    with serve(app) as base_url:
        paid = bridge["put_member"](
            base_url, key, *bridge["member_state"](_invoice("invoice.paid", card, period_end))
        )
        assert (
            paid["created"] and paid["user"]["status"] == "active" and paid["groups"] == ["Members", "Sauna"]
        )
        assert admin.ok("GET", who)["count"] == 1
        version = admin.ok("GET", f"/doors/{door['id']}")["permission_version"]
        again = bridge["put_member"](
            base_url, key, *bridge["member_state"](_invoice("invoice.paid", card, period_end))
        )
        assert not again["changed"]
        script = tmp_path / "bridge.py"
        script.write_text(docs_example("payment"), encoding="utf-8")
        env = {**os.environ, "OPENAKERUN_URL": base_url, "OPENAKERUN_KEY": key}
        failed = json.dumps(_invoice("invoice.payment_failed", card, period_end))
        run = subprocess.run(
            [sys.executable, str(script)], input=failed, env=env, capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.split() == ["cus_42", "changed", "suspended"]
    assert admin.ok("GET", who)["count"] == 0
    assert admin.ok("GET", f"/doors/{door['id']}")["permission_version"] == version + 1
