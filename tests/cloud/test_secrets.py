"""Secrets (site key, device secret, broker password, phone token, API key) appear in the answer that issues
them only (a site's creation, a door's creation or provisioning, a phone's enrolment, a key's creation).

A full create flow runs through a real uvicorn server while every log record is captured (uvicorn's
access and error logs, SQLAlchemy's statement log as `echo=True` would print it, the application's):
no secret may appear in a log, in any later response, in the audit trail or in an error message.
"""

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from tests.cloud.conftest import API, issue_key
from tests.cloud.helpers import card_hex


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn server in a thread; its loggers propagate to pytest's caplog."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=True, log_level="debug"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


def _capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi", "httpx", "cloud"):
        caplog.set_level(logging.DEBUG, logger=name)
    # INFO is SQLAlchemy's echo=True: every statement with its parameters.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    caplog.set_level(logging.INFO, logger="sqlalchemy.pool")


def test_no_secret_in_logs_later_responses_audit_or_errors(
    server: str, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    _capture_everything(caplog)
    root_key = issue_key(db, "admin", None, "root")
    later: list[str] = []  # every body answered after the secrets were shown

    with httpx.Client(base_url=server + API, headers={"Authorization": f"Bearer {root_key}"}) as api:

        def call(method: str, path: str, status: int, **kwargs: Any) -> Any:
            response = api.request(method, path, **kwargs)
            assert response.status_code == status, (method, path, response.text)
            return response

        site = call("POST", "/sites", 201, json={"name": "HQ", "timezone": "Europe/Paris"}).json()
        door = call(
            "POST", "/doors", 201, json={"name": "Front", "device_id": "lock-front", "site_id": site["id"]}
        ).json()
        provisioned = call("POST", f"/doors/{door['id']}/provision", 200).json()
        rotation = call("POST", f"/doors/{door['id']}/rotate-secret", 202).text
        spare = call(
            "POST", "/doors", 201, json={"name": "Spare", "device_id": "lock-spare", "site_id": site["id"]}
        ).json()
        user = call("POST", "/users", 201, json={"name": "Alice", "site_id": site["id"]}).json()
        phone = call("POST", "/credentials", 201, json={"user_id": user["id"], "kind": "phone"}).json()
        card = card_hex()
        call("POST", "/credentials", 201, json={"user_id": user["id"], "kind": "felica", "identifier": card})
        issued = call(
            "POST", "/api-keys", 201, json={"name": "desk", "role": "operator", "site_id": site["id"]}
        ).json()
        call(
            "POST",
            "/access-rules",
            201,
            json={"user_id": user["id"], "door_id": door["id"], "site_id": site["id"]},
        )
        secrets = {
            "site key": site["site_key"],
            "device secret": door["device_secret"],
            "broker password": door["provisioning"]["broker_password"],
            "re-provisioned device secret": provisioned["device_secret"],
            "re-provisioned broker password": provisioned["broker_password"],
            "spare door's device secret": spare["device_secret"],
            "phone token": phone["token"],
            "api key": issued["key"],
            "root api key": root_key,
        }
        assert all(len(value) >= 32 for value in secrets.values())
        later.append(rotation)
        later.append(call("POST", f"/sites/{site['id']}/rotate-key", 202).text)
        later.append(call("POST", f"/doors/{spare['id']}/retire", 200).text)

        for path in (
            "/sites",
            f"/sites/{site['id']}",
            "/doors",
            f"/doors/{door['id']}",
            f"/doors/{door['id']}/effective-permissions",
            f"/doors/{door['id']}/who-can-enter",
            "/credentials",
            f"/credentials/{phone['id']}",
            "/api-keys",
            "/audit?limit=500",
            "/events/export.csv",
        ):
            later.append(call("GET", path, 200).text)
        later.append(call("PATCH", f"/doors/{door['id']}", 200, json={"name": "Main"}).text)
        later.append(call("PATCH", f"/sites/{site['id']}", 200, json={"name": "Head office"}).text)
        later.append(call("PATCH", f"/credentials/{phone['id']}", 200, json={"label": "Alice's phone"}).text)
        # Refusals: a duplicate card, a phone with an identifier, a taken device id, bad and revoked keys.
        later.append(
            call(
                "POST",
                "/credentials",
                409,
                json={"user_id": user["id"], "kind": "felica", "identifier": card},
            ).text
        )
        later.append(
            call(
                "POST",
                "/credentials",
                422,
                json={"user_id": user["id"], "kind": "phone", "identifier": phone["token"][:8]},
            ).text
        )
        later.append(
            call(
                "POST", "/doors", 409, json={"name": "x", "device_id": "lock-front", "site_id": site["id"]}
            ).text
        )
        later.append(call("POST", f"/doors/{spare['id']}/provision", 409).text)
        later.append(call("POST", f"/doors/{door['id']}/rotate-secret", 409).text)
        call("DELETE", f"/api-keys/{issued['id']}", 204)
        later.append(
            httpx.get(server + API + "/doors", headers={"Authorization": f"Bearer {issued['key']}"}).text
        )
        later.append(
            httpx.get(server + API + "/doors", headers={"Authorization": f"Bearer {issued['key']}x"}).text
        )

    logged = caplog.text
    assert "POST /api/v1/credentials" in logged, "the access log was not captured"
    assert "INSERT INTO site" in logged, "the SQL statement log was not captured"
    for name, secret in secrets.items():
        assert secret not in logged, f"{name} logged"
        for body in later:
            assert secret not in body, f"{name} in a later response: {body[:200]}"
    # The raw card identifier stays server-side too (only a hint of its last bytes is shown).
    assert card not in logged and all(card not in body for body in later)
