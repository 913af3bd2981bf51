"""Cost of the integrations (figures, not tests), on SQLite: what webhooks add to an event batch's ingest, the
delivery worker's rate to a local receiver (one endpoint, in order), a face verification, an unchanged
member upsert, and a month of attendance. Prints a Markdown table for docs/BENCHMARKS.md.

    .venv/bin/python tools/bench_integrations.py [--people 200] [--deliveries 500]
"""

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from cloud.auth.keys import create_api_key
from cloud.events.service import ingest_events
from cloud.integrations.webhooks.kinds import KINDS
from cloud.integrations.webhooks.worker import DeliveryWorker
from cloud.main import create_app
from cloud.models.api_key import ApiKeyCreate
from cloud.models.door import Door
from cloud.scratch import sqlite_database
from cloud.settings import Settings

# A local receiver, and no rate limit in the way.
LAB: dict[str, Any] = {
    "webhook_allow_http": True,
    "webhook_allow_private_networks": True,
    "integration_rate_limit_per_min": 10**5,
}
T0 = 1_790_000_000  # 2026-09-21


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def _receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


def _median_ms(action: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1e3)
    return statistics.median(samples)


class _Site:
    """A site with a door, people with cards and a rule, and an admin client."""

    def __init__(self, engine: Engine, client: TestClient, people: int) -> None:
        with Session(engine) as session:
            _, key = create_api_key(session=session, key_in=ApiKeyCreate(name="bench", role="admin"))
            session.commit()
        self.engine, self.client = engine, client
        self.headers = {"Authorization": f"Bearer {key}"}
        self.site = self.post("/sites", {"name": "Bench", "timezone": "Asia/Tokyo"})
        self.door = self.post("/doors", {"name": "D", "device_id": "bench", "face_threshold": 0.5})
        group = self.post("/groups", {"name": "Staff"})
        self.post("/access-rules", {"group_id": group["id"], "door_id": self.door["id"]})
        self.hashes = []
        for number in range(people):
            user = self.post("/users", {"name": f"P{number}", "external_id": f"P-{number}"})
            card = self.post(
                "/credentials", {"user_id": user["id"], "kind": "felica", "identifier": f"0127{number:012x}"}
            )
            self.client.put(f"/api/v1/groups/{group['id']}/members/{user['id']}", headers=self.headers)
            self.hashes.append(card["cred_hash"])
        self.seq = 0

    def post(self, path: str, body: dict[str, Any]) -> Any:
        if path != "/sites":
            body = {"site_id": self.site["id"], **body}
        response = self.client.post(f"/api/v1{path}", headers=self.headers, json=body)
        assert response.status_code in (200, 201, 202), response.text
        return response.json()

    def batch(self, size: int = 32, day: int = 0) -> list[list[Any]]:
        events = []
        for index in range(size):
            self.seq += 1
            cred = self.hashes[(self.seq * 7) % len(self.hashes)]
            events.append([self.seq, T0 + day * 86400 + 8 * 3600 + index * 60, "granted", cred, "ok"])
        return events

    def ingest(self, events: list[list[Any]]) -> None:
        with Session(self.engine) as session:
            door = session.get(Door, self.door["id"])
            assert door is not None
            ingest_events(session=session, door=door, events=events)
            session.commit()


def run(people: int, deliveries: int) -> list[tuple[str, str]]:
    os.environ.setdefault("OPENAKERUN_MASTER_KEY", os.urandom(32).hex())  # throwaway databases, throwaway key
    settings = Settings(**LAB)
    rows: list[tuple[str, str]] = []
    with (
        sqlite_database() as engine,
        TestClient(create_app(settings, engine=engine)) as client,
        _receiver() as url,
    ):
        bench = _Site(engine, client, people)
        ingest = lambda: bench.ingest(bench.batch())  # noqa: E731
        rows.append(("ingest a 32-event batch, no webhook endpoint", f"{_median_ms(ingest, 30):.1f} ms"))
        for _ in range(3):
            bench.post("/webhooks", {"url": url, "kinds": list(KINDS)})
        rows.append(
            (
                "ingest a 32-event batch, 3 endpoints (96 deliveries queued)",
                f"{_median_ms(ingest, 30):.1f} ms",
            )
        )
        worker = DeliveryWorker(engine, settings)
        worker.run_once()  # drain what the measurement above queued
        bench.ingest(bench.batch(deliveries // 3))
        started = time.perf_counter()
        while worker.run_once().delivered:
            pass
        elapsed = time.perf_counter() - started
        rate = f"{deliveries / elapsed:.0f} /s"
        rows.append(
            (f"deliver {deliveries} webhooks to a local receiver (3 endpoints, in order, signed)", rate)
        )
        term = bench.post(
            "/api-keys", {"name": "cam", "role": "integration", "scopes": ["verifications", "members"]}
        )
        terminal = {"Authorization": f"Bearer {term['key']}"}
        body = {"external_id": "P-1", "door_id": bench.door["id"], "confidence": 0.9, "terminal_id": "cam"}

        def verify() -> None:
            answer = _ok(client.post("/api/v1/integrations/verifications", headers=terminal, json=body))
            assert answer["decision"] == "granted", answer

        rows.append(("POST /integrations/verifications (granted)", f"{_median_ms(verify, 50):.1f} ms"))
        card = {"kind": "felica", "identifier": "0127" + "0" * 11 + "1"}
        member = {"name": "P1", "groups": ["Staff"], "cards": [card]}
        _ok(client.put("/api/v1/integrations/members/P-1", headers=terminal, json=member))

        def same() -> None:
            assert not _ok(client.put("/api/v1/integrations/members/P-1", headers=terminal, json=member))[
                "changed"
            ]

        rows.append(
            ("PUT /integrations/members/{id}, same state again (no write)", f"{_median_ms(same, 50):.1f} ms")
        )
        for day in range(30):
            bench.ingest(bench.batch(people, day))
        month = {"from": "2026-09-21", "to": "2026-10-20", "site_id": bench.site["id"]}

        def attendance() -> None:
            answer = _ok(client.get("/api/v1/attendance", headers=bench.headers, params=month))
            assert answer["count"] >= 30 * people * 0.9, answer["count"]

        rows.append((f"GET /attendance, 30 days x {people} people", f"{_median_ms(attendance, 5):.0f} ms"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--deliveries", type=int, default=600)
    args = parser.parse_args()
    print("| what | figure |\n|---|---|")
    for what, figure in run(args.people, args.deliveries):
        print(f"| {what} | {figure} |")
    return 0
