"""The delivery worker against real HTTP receivers in their own processes, on a clock the tests move.

A receiver down for an hour loses nothing and then gets everything in order; failures are retried with
backoff and visible as attempts; a delivery older than the maximum age is given up; one endpoint is served
by one worker at a time; the receiver example of docs/INTEGRATIONS.md verifies real deliveries and refuses
forged ones; `python -m cloud webhooks --once` delivers.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from cloud.db import make_engine
from cloud.integrations.webhooks.kinds import KINDS
from cloud.integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from cloud.integrations.webhooks.outbox import emit
from cloud.integrations.webhooks.signing import signature_header
from cloud.integrations.webhooks.worker import DeliveryWorker, backoff_s
from cloud.main import create_app
from cloud.settings import Settings
from tests.cloud.conftest import Api
from tests.cloud.webhooks_kit import REPO, FakeClock, ReceiverProcess, docs_example, docs_verify, free_port

LAB = {"webhook_allow_http": True, "webhook_allow_private_networks": True}


@pytest.fixture
def settings() -> Settings:
    return Settings(**LAB, webhook_backoff_base_s=10, webhook_backoff_max_s=600, webhook_max_age_s=86400)


@pytest.fixture
def app(db: Engine, settings: Settings) -> FastAPI:
    return create_app(settings, engine=db)


@pytest.fixture
def receiver(tmp_path: Path) -> Any:
    process = ReceiverProcess(tmp_path)
    yield process
    process.stop()


def _hook(admin: Api, site: dict[str, Any], url: str) -> dict[str, Any]:
    return admin.ok("POST", "/webhooks", 201, json={"url": url, "kinds": list(KINDS), "site_id": site["id"]})


def _emit(db: Engine, site_id: int, count: int, kind: str = "log_gap") -> None:
    with Session(db) as session:
        for number in range(count):
            emit(session=session, site_id=site_id, kind=kind, payload={"n": number})
        session.commit()


def _numbers(received: list[dict[str, Any]]) -> list[int]:
    return [json.loads(request["body"])["data"]["n"] for request in received]


def test_a_receiver_down_for_an_hour_loses_nothing_and_then_gets_everything_in_order(
    admin: Api, site: dict[str, Any], db: Engine, settings: Settings, receiver: ReceiverProcess
) -> None:
    hook = _hook(admin, site, receiver.url)  # the receiver is not running: connections are refused
    _emit(db, site["id"], 5)
    clock = FakeClock(time.time() + 1)
    worker = DeliveryWorker(db, settings, clock=clock)
    passes_due = 0
    for _ in range(12):  # an hour, a pass every five minutes
        report = worker.run_once()
        assert report.delivered == 0 and report.given_up == 0
        passes_due += report.failed_attempts
        clock.advance(300)
    deliveries = admin.ok("GET", f"/webhooks/{hook['id']}/deliveries")["data"][::-1]  # oldest first
    head, waiting = deliveries[0], deliveries[1:]
    assert [d["status"] for d in deliveries] == ["pending"] * 5
    assert head["attempts"] == passes_due >= 8 and all(d["attempts"] == 0 for d in waiting)
    log = admin.ok("GET", f"/webhooks/{hook['id']}/deliveries/{head['id']}")["attempt_log"]
    assert len(log) == passes_due and all(a["status_code"] == 0 and "Connect" in a["error"] for a in log)
    assert head["next_attempt_at"] - head["last_attempt_at"] == backoff_s(settings, passes_due) == 600

    receiver.start()
    clock.advance(600)
    assert worker.run_once().delivered == 5
    received = receiver.received()
    assert _numbers(received) == [0, 1, 2, 3, 4]
    verify = docs_verify()
    for request in received:
        header = request["headers"]["x-openakerun-signature"]
        assert verify(hook["secret"], header, request["body"].encode(), now=clock.now)
        assert not verify(hook["secret"] + "x", header, request["body"].encode(), now=clock.now)
        assert request["headers"]["x-openakerun-kind"] == "log_gap"
        assert request["headers"]["x-openakerun-delivery"] == json.loads(request["body"])["id"]
    assert all(
        d["status"] == "delivered" for d in admin.ok("GET", f"/webhooks/{hook['id']}/deliveries")["data"]
    )
    assert worker.run_once().delivered == 0  # nothing is sent twice


def test_refusals_are_retried_with_backoff_and_every_attempt_is_visible(
    admin: Api, site: dict[str, Any], db: Engine, settings: Settings, receiver: ReceiverProcess
) -> None:
    hook = _hook(admin, site, receiver.url)
    receiver.start(fail_first=2, status=503)
    _emit(db, site["id"], 2)
    clock = FakeClock(time.time() + 1)
    worker = DeliveryWorker(db, settings, clock=clock)
    assert worker.run_once().failed_attempts == 1
    assert worker.run_once().failed_attempts == 0  # not due yet: backoff
    clock.advance(backoff_s(settings, 1))
    assert worker.run_once().failed_attempts == 1
    clock.advance(backoff_s(settings, 2))
    assert worker.run_once().delivered == 2
    first = admin.ok("GET", f"/webhooks/{hook['id']}/deliveries")["data"][-1]
    log = admin.ok("GET", f"/webhooks/{hook['id']}/deliveries/{first['id']}")["attempt_log"]
    assert [(a["status_code"], a["error"]) for a in log] == [(503, "HTTP 503"), (503, "HTTP 503"), (204, "")]
    assert [log[1]["at"] - log[0]["at"], log[2]["at"] - log[1]["at"]] == [10, 20]
    assert _numbers(receiver.received()) == [0, 0, 0, 1]


def test_a_delivery_older_than_the_maximum_age_is_given_up_and_the_next_one_moves_up(
    admin: Api, site: dict[str, Any], db: Engine, settings: Settings, receiver: ReceiverProcess
) -> None:
    hook = _hook(admin, site, receiver.url)
    _emit(db, site["id"], 1)
    clock = FakeClock(time.time() + 1)
    worker = DeliveryWorker(db, settings, clock=clock)
    assert worker.run_once().failed_attempts == 1
    clock.advance(settings.webhook_max_age_s + 1)
    _emit(db, site["id"], 1)  # queued a day later
    with Session(db) as session:  # ... as the clock says
        session.execute(
            update(WebhookDelivery).where(WebhookDelivery.attempts == 0).values(created_at=int(clock.now))
        )
        session.commit()
    receiver.start()
    report = worker.run_once()
    assert (report.given_up, report.delivered) == (1, 1)
    old, new = admin.ok("GET", f"/webhooks/{hook['id']}/deliveries")["data"][::-1]
    assert old["status"] == "failed" and "given up" in old["last_error"] and new["status"] == "delivered"
    assert admin.ok("GET", f"/webhooks/{hook['id']}")["failed"] == 1


def test_one_endpoint_is_served_by_one_worker_at_a_time(
    admin: Api, site: dict[str, Any], db: Engine, settings: Settings, receiver: ReceiverProcess
) -> None:
    hook = _hook(admin, site, receiver.url)
    receiver.start()
    _emit(db, site["id"], 3)
    clock = FakeClock(time.time() + 1)
    first, second = (DeliveryWorker(db, settings, clock=clock, owner=name) for name in ("a", "b"))
    assert first._claim(hook["id"]) and not second._claim(hook["id"])
    assert second.run_once().delivered == 0  # the endpoint is first's
    clock.advance(settings.webhook_lease_s + 1)  # first died holding it: the lease runs out
    assert second.run_once().delivered == 3 and first.run_once().delivered == 0
    assert _numbers(receiver.received()) == [0, 1, 2]
    with Session(db) as session:
        endpoint = session.get(WebhookEndpoint, hook["id"])
        assert endpoint is not None and endpoint.lease_owner == ""


def test_a_deleted_or_disabled_endpoint_is_not_called(
    admin: Api, site: dict[str, Any], db: Engine, settings: Settings, receiver: ReceiverProcess
) -> None:
    hook = _hook(admin, site, receiver.url)
    receiver.start()
    _emit(db, site["id"], 1)
    admin.ok("PATCH", f"/webhooks/{hook['id']}", json={"enabled": False})
    worker = DeliveryWorker(db, settings, clock=FakeClock(time.time() + 1))
    assert worker.run_once().delivered == 0
    admin.ok("PATCH", f"/webhooks/{hook['id']}", json={"enabled": True})
    assert worker.run_once().delivered == 1
    admin.ok("DELETE", f"/webhooks/{hook['id']}", 204)
    _emit(db, site["id"], 1)
    assert worker.run_once().delivered == 0 and len(receiver.received()) == 1


def test_a_refused_target_is_an_attempt_that_names_the_reason(
    admin: Api, site: dict[str, Any], db: Engine, settings: Settings, receiver: ReceiverProcess
) -> None:
    hook = _hook(admin, site, receiver.url)
    receiver.start()
    _emit(db, site["id"], 1)
    strict = Settings()  # a worker whose settings forbid http:// and loopback
    assert DeliveryWorker(db, strict, clock=FakeClock(time.time() + 1)).run_once().failed_attempts == 1
    delivery = admin.ok("GET", f"/webhooks/{hook['id']}/deliveries")["data"][0]
    assert delivery["last_error"].startswith("target refused") and receiver.received() == []


def test_the_docs_receiver_example_takes_real_deliveries_once_and_refuses_forged_ones(
    admin: Api, site: dict[str, Any], db: Engine, settings: Settings, tmp_path: Path
) -> None:
    script = tmp_path / "receiver.py"
    script.write_text(docs_example(), encoding="utf-8")
    port = free_port()
    hook = _hook(admin, site, f"http://127.0.0.1:{port}/")
    env = {**os.environ, "WEBHOOK_SECRET": hook["secret"]}
    process = subprocess.Popen(
        [sys.executable, str(script), str(port)], env=env, stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert process.stdout is not None and process.stdout.readline().startswith("listening on")
        _emit(db, site["id"], 2, kind="lock_offline")
        worker = DeliveryWorker(db, settings)  # the real clock: the example checks t against its own
        assert worker.run_once().delivered == 2
        with Session(db) as session:  # a repeat, as after a lost answer: the example drops it
            session.execute(update(WebhookDelivery).values(status="pending"))
            session.commit()
        assert worker.run_once().delivered == 2
        body = b'{"data":{},"id":"forged","kind":"ping"}'
        now = int(time.time())
        for header in (
            signature_header(hook["secret"] + "x", now, body),
            signature_header(hook["secret"], now - 3600, body),
            "v1=" + signature_header(hook["secret"], now, body).split("v1=")[1],
            "",
        ):
            response = httpx.post(
                f"http://127.0.0.1:{port}/", content=body, headers={"X-Openakerun-Signature": header}
            )
            assert response.status_code == 401
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    lines = output.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["lock_offline", "lock_offline"]
    assert [json.loads(line.split(" ", 1)[1])["n"] for line in lines] == [0, 1]


def test_the_cli_delivers_once(tmp_path: Path, receiver: ReceiverProcess) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/cloud.db", "PYTHONPATH": str(REPO)}
    env.update({"WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"})
    run = [sys.executable, "-m", "cloud"]
    refused = subprocess.run(
        [*run, "webhooks", "--once"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert refused.returncode == 2 and "python -m cloud db upgrade" in refused.stderr
    assert subprocess.run([*run, "db", "upgrade"], env=env, capture_output=True, cwd=tmp_path).returncode == 0
    engine = make_engine(env["DATABASE_URL"])
    app = create_app(Settings(**LAB), engine=engine)
    from fastapi.testclient import TestClient

    from tests.cloud.conftest import issue_key

    with TestClient(app) as client:
        root = Api(client, issue_key(engine, "admin", None, "cli test"))
        site = root.ok("POST", "/sites", 201, json={"name": "CLI"})
        _hook(root, site, receiver.url)
    _emit(engine, site["id"], 3)
    receiver.start()
    done = subprocess.run([*run, "webhooks", "--once"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "3 delivered" in done.stderr, done.stderr
    assert _numbers(receiver.received()) == [0, 1, 2]
    with Session(engine) as session:
        assert {d.status for d in session.exec(select(WebhookDelivery)).all()} == {"delivered"}
    engine.dispose()


def test_a_secret_that_does_not_open_fails_its_endpoint_only(
    admin: Api, site: dict[str, Any], db: Engine, settings: Settings, receiver: ReceiverProcess
) -> None:
    good, moved = _hook(admin, site, receiver.url), _hook(admin, site, receiver.url)
    with Session(db) as session:  # a sealed value copied to another row does not open there
        sealed = session.get(WebhookEndpoint, good["id"])
        assert sealed is not None
        session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == moved["id"])
            .values(secret_sealed=sealed.secret_sealed)
        )
        session.commit()
    receiver.start()
    _emit(db, site["id"], 1)
    report = DeliveryWorker(db, settings, clock=FakeClock(time.time() + 1)).run_once()
    assert (report.delivered, report.failed_attempts) == (1, 1)
    (failed,) = admin.ok("GET", f"/webhooks/{moved['id']}/deliveries")["data"]
    assert "does not open" in failed["last_error"] and len(receiver.received()) == 1
