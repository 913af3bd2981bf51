"""Cost of the secrets at rest (figures, not tests): sealing and opening a 32-byte secret, a broker password
hash, and the provisioning and rotation requests on SQLite. Prints a Markdown table for docs/BENCHMARKS.md.

    .venv/bin/python tools/bench_secrets.py [--repeat 200]
"""

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from cloud.auth.keys import create_api_key
from cloud.lockkeys.broker import mosquitto_hash, mosquitto_hash_matches
from cloud.main import create_app
from cloud.models.api_key import ApiKeyCreate
from cloud.scratch import sqlite_database
from cloud.settings import Settings
from cloud.vault.sealing import Sealer


def _median_us(action: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def _requests(repeat: int) -> list[tuple[str, float]]:
    with sqlite_database() as engine:
        with Session(engine) as session:
            _, key = create_api_key(session=session, key_in=ApiKeyCreate(name="bench", role="admin"))
            session.commit()
        with TestClient(create_app(Settings(), engine=engine)) as client:
            headers = {"Authorization": f"Bearer {key}"}
            site = client.post("/api/v1/sites", headers=headers, json={"name": "Bench"}).json()
            door = client.post(
                "/api/v1/doors",
                headers=headers,
                json={"name": "D", "device_id": "bench", "site_id": site["id"]},
            ).json()
            provision = f"/api/v1/doors/{door['id']}/provision"
            rotate = f"/api/v1/doors/{door['id']}/rotate-secret"
            return [
                (
                    "POST /doors/{id}/provision (SQLite)",
                    _median_us(lambda: client.post(provision, headers=headers), repeat),
                ),
                (
                    "POST /doors/{id}/provision then /rotate-secret (SQLite)",
                    _median_us(
                        lambda: (
                            client.post(provision, headers=headers),
                            client.post(rotate, headers=headers),
                        ),
                        repeat,
                    ),
                ),
            ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=200, help="timed runs per figure (median reported)")
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENAKERUN_MASTER_KEY", os.urandom(32).hex())  # throwaway databases, throwaway key
    sealer, secret = Sealer(os.urandom(32)), os.urandom(32)
    sealed = sealer.seal(secret, table="door_key", column="secret", row="1/1")
    stored = mosquitto_hash("x" * 32)
    rows = [
        (
            "seal a 32-byte secret (AES-256-GCM)",
            _median_us(lambda: sealer.seal(secret, table="t", column="c", row=1), args.repeat),
        ),
        (
            "open it",
            _median_us(
                lambda: sealer.open(sealed, table="door_key", column="secret", row="1/1"), args.repeat
            ),
        ),
        (
            "broker password hash ($7$, 101 PBKDF2-SHA512 rounds)",
            _median_us(lambda: mosquitto_hash("x" * 32), args.repeat),
        ),
        (
            "check a password against it (what Mosquitto does per CONNECT)",
            _median_us(lambda: mosquitto_hash_matches("x" * 32, stored), args.repeat),
        ),
        *_requests(max(args.repeat // 10, 5)),
    ]
    print("\n| measurement | median |\n|---|---|")
    for label, micros in rows:
        print(
            f"| {label} | {micros:.0f} us |" if micros < 10_000 else f"| {label} | {micros / 1000:.1f} ms |"
        )
    return 0
