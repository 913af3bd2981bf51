"""`python -m cloud` (help, keys, db upgrade, serve) and the Alembic schema against the models."""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from cloud.db import make_engine
from cloud.main import create_app
from cloud.migrate import DatabaseNotMigrated, current_revision, head_revision, upgrade
from tests.cloud.conftest import POSTGRES_URL

REPO = Path(__file__).resolve().parents[2]


def _cloud(args: list[str], tmp_path: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/cloud.db", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "cloud", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_every_command_has_help(tmp_path: Path) -> None:
    for args in (["--help"], ["serve", "--help"], ["keys", "create", "--help"], ["db", "upgrade", "--help"]):
        result = _cloud(args, tmp_path)
        assert result.returncode == 0 and "usage:" in result.stdout, args
    assert "--role" in _cloud(["keys", "create", "--help"], tmp_path).stdout


def test_keys_create_works_on_an_empty_database_and_the_key_authenticates(tmp_path: Path) -> None:
    result = _cloud(["keys", "create", "--role", "admin", "--name", "installer"], tmp_path)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("oak_") and key not in result.stderr
    engine = make_engine(f"sqlite:///{tmp_path}/cloud.db")
    app = create_app(engine=engine)
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        response = client.get("/api/v1/sites", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200
    refused = _cloud(["keys", "create", "--role", "viewer", "--name", "x", "--site", "99"], tmp_path)
    assert refused.returncode == 2 and "no site 99" in refused.stderr


def test_serve_refuses_an_unmigrated_database_and_names_the_command(tmp_path: Path) -> None:
    result = _cloud(["serve", "--port", "1"], tmp_path)
    assert result.returncode == 2
    assert "python -m cloud db upgrade" in result.stderr
    with pytest.raises(DatabaseNotMigrated, match="python -m cloud db upgrade"):
        create_app(engine=make_engine(f"sqlite:///{tmp_path}/other.db"))


def test_db_upgrade_then_serve_answers(tmp_path: Path) -> None:
    first = _cloud(["db", "upgrade"], tmp_path)
    assert first.returncode == 0 and "was empty" in first.stdout
    assert _cloud(["db", "upgrade"], tmp_path).returncode == 0  # idempotent
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/cloud.db", "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-m", "cloud", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "server did not start"
                time.sleep(0.2)
        assert response.json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/doors").status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["info"]["title"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_migrations_match_the_models(db: Engine) -> None:
    assert current_revision(db) == head_revision()
    upgrade(db)  # idempotent on a migrated database
    with db.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


@pytest.mark.postgres
def test_cli_on_an_empty_postgres_schema() -> None:
    """DATABASE_URL picks the database: `keys create` migrates an empty PostgreSQL schema; serve checks it."""
    schema = f"clitest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO)}
        run = [sys.executable, "-m", "cloud"]
        refused = subprocess.run(
            [*run, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60
        )
        assert refused.returncode == 2 and "python -m cloud db upgrade" in refused.stderr
        created = subprocess.run(
            [*run, "keys", "create", "--role", "admin", "--name", "installer"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip()
        engine = make_engine(url)
        assert current_revision(engine) == head_revision()
        from fastapi.testclient import TestClient

        with TestClient(create_app(engine=engine)) as client:
            assert client.get("/api/v1/sites", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        engine.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
