"""Migration 0006 on a database populated at its parent revision, 0007 (SQLite and PostgreSQL): existing
rows get the defaults (no face unlock, "in" doors, unbounded validity, no scopes, midnight day boundary), the
new code works on the result, and a downgrade drops what 0007 cannot hold (cloud-recorded events)."""

from collections.abc import Iterator

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cloud.main import create_app
from cloud.migrate import alembic_config, current_revision, head_revision, migration_connection, upgrade
from cloud.scratch import scratch_database
from tests.cloud.conftest import API, POSTGRES_URL, issue_key

ROWS = [
    "INSERT INTO site (id, name, timezone, site_key_sealed, created_at) "
    "VALUES (1, 'HQ', 'Asia/Tokyo', '', 0)",
    "INSERT INTO door (id, name, mode, passage_windows, site_id, device_id, epoch, retired_at, "
    "firmware_version, applied_permission_version, last_seen, online, created_at) "
    "VALUES (1, 'Front', 'normal', '[]', 1, 'lock-front', 1, 0, '', 0, 0, false, 0)",
    "INSERT INTO app_user (id, name, status, site_id, external_id, created_at) "
    "VALUES (1, 'Alice', 'active', 1, 'A-1', 0)",
    "INSERT INTO event (id, site_id, door_id, seq, ts, clock_set, type, result, cred_hash, reason, "
    "received_at) "
    "VALUES (1, 1, 1, 7, 1790000000, true, 'granted', 'granted', '', 'ok', 1790000000)",
    "INSERT INTO command (id, wire_id, site_id, door_id, action, status, error, created_by, created_at, "
    "updated_at) VALUES (1, 'w-1', 1, 1, 'unlock', 'pending', '', 'desk', 0, 0)",
]


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def at_0007(request: pytest.FixtureRequest, master_key: str) -> Iterator[Engine]:
    with scratch_database(request.param, POSTGRES_URL, "mig6test", revision="0007") as engine:
        with engine.begin() as connection:
            for statement in ROWS:
                connection.execute(text(statement))
            if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
                for table in ("site", "door", "app_user", "event", "command"):
                    connection.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)")  # noqa: S608
                    )
        yield engine


def test_existing_rows_get_the_defaults_and_the_code_works_on_them(at_0007: Engine) -> None:
    upgrade(at_0007)
    assert current_revision(at_0007) == head_revision()
    with at_0007.connect() as connection:
        door = connection.execute(text("SELECT direction, face_threshold, require_face_s FROM door")).one()
        user = connection.execute(text("SELECT valid_from, valid_until FROM app_user")).one()
        event = connection.execute(text("SELECT seq, method, terminal_id FROM event")).one()
        boundary = connection.execute(text("SELECT day_boundary_minute FROM site")).scalar_one()
        expires = connection.execute(text("SELECT expires_at FROM command")).scalar_one()
    assert tuple(door) == ("in", None, 0) and tuple(user) == (0, 0) and tuple(event) == (7, "", "")
    assert boundary == 0 and expires == 0
    with TestClient(create_app(engine=at_0007)) as client:
        headers = {"Authorization": f"Bearer {issue_key(at_0007, 'admin', None, 'after 0006')}"}
        assert client.get(f"{API}/api-keys", headers=headers).json()["data"][0]["scopes"] == []
        events = client.get(f"{API}/events", headers=headers).json()["data"]
        assert [(e["seq"], e["method"]) for e in events] == [(7, "")]
        days = client.get(
            f"{API}/attendance",
            headers=headers,
            params={"from": "2026-09-21", "to": "2026-09-22", "site_id": 1},
        )
        assert days.status_code == 200, days.text
        assert client.get(f"{API}/doors/1", headers=headers).json()["face_threshold"] is None


def test_a_downgrade_drops_cloud_recorded_events_and_goes_back(at_0007: Engine) -> None:
    upgrade(at_0007)
    with at_0007.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO event (site_id, door_id, seq, ts, clock_set, type, result, cred_hash, reason, "
                "method, terminal_id, received_at) "
                "VALUES (1, 1, NULL, 1790000001, true, 'granted', 'granted', '', 'face', 'face', 'cam', 0)"
            )
        )
    _downgrade(at_0007, "0007")
    assert current_revision(at_0007) == "0007"
    with at_0007.connect() as connection:
        assert connection.execute(text("SELECT seq FROM event")).scalars().all() == [7]
    upgrade(at_0007)
    assert current_revision(at_0007) == head_revision()
