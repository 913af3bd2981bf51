"""Migration 0002 on a database populated at revision 0001 (SQLite and PostgreSQL): without the master key
it stops before changing anything and says how to give it one; with it, site keys and device secrets are
sealed, identifiers become hints and are dropped, and the new code works on the result."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session

from cloud.crud.sites import site_key
from cloud.lockkeys.service import door_keys
from cloud.main import create_app
from cloud.migrate import current_revision, head_revision, upgrade
from cloud.models.door import Door
from cloud.models.site import Site
from cloud.scratch import scratch_database
from cloud.vault.master import MasterKeyError, forget_master_key
from shared_schema.credentials import credential_hash
from tests.cloud.conftest import API, POSTGRES_URL, issue_key

REPO = Path(__file__).resolve().parents[2]
SITE_KEY = bytes(range(100, 132))
DEVICE_SECRET = bytes(range(32))
# (id, kind, identifier as 0001 stored it (normalized hex), assurance as 0001 stored it)
CREDENTIALS = [
    (1, "felica", "0127000000abcdef", "uid"),
    (2, "iso14443a", "1f223344", "uid"),  # a MIFARE NUID: 0002 recognises it
    (3, "phone", "00112233445566778899aabbccddeeff", "token"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def at_0001(request: pytest.FixtureRequest, master_key: str) -> Iterator[Engine]:
    """A database at revision 0001 holding a site, a door, a user and three credentials."""
    with scratch_database(request.param, POSTGRES_URL, "migtest", revision="0001") as engine:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO site (id, name, timezone, site_key, created_at) "
                    "VALUES (1, 'HQ', 'UTC', :k, 0)"
                ),
                {"k": SITE_KEY.hex()},
            )
            connection.execute(
                text(
                    "INSERT INTO door (id, name, mode, passage_windows, site_id, device_id, device_secret, "
                    "firmware_version, applied_permission_version, last_seen, online, created_at) "
                    "VALUES (1, 'Front', 'normal', '[]', 1, 'lock-front', :s, '', 0, 0, false, 0)"
                ),
                {"s": DEVICE_SECRET.hex()},
            )
            connection.execute(
                text(
                    "INSERT INTO app_user (id, name, status, site_id, created_at) "
                    "VALUES (1, 'Alice', 'active', 1, 0)"
                )
            )
            for cid, kind, identifier, level in CREDENTIALS:
                connection.execute(
                    text(
                        "INSERT INTO credential (id, label, site_id, user_id, kind, identifier, cred_hash, "
                        "assurance, created_at) VALUES (:i, '', 1, 1, :k, :n, :h, :a, 0)"
                    ),
                    {
                        "i": cid,
                        "k": kind,
                        "n": identifier,
                        "h": credential_hash(SITE_KEY, kind, identifier),
                        "a": level,
                    },
                )
            if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
                for table in ("site", "door", "app_user", "credential"):
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT MAX(id) FROM {table}))"
                        )
                    )
        yield engine


def _without_master_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAKERUN_MASTER_KEY")
    monkeypatch.setenv("OPENAKERUN_MASTER_KEY_FILE", str(tmp_path / "no-such.key"))
    forget_master_key()


def test_without_the_master_key_the_migration_changes_nothing_and_names_the_fix(
    at_0001: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with monkeypatch.context() as patch:
        _without_master_key(patch, tmp_path)
        with pytest.raises(MasterKeyError, match="migration 0002") as refused:
            upgrade(at_0001)
    forget_master_key()
    message = str(refused.value)
    assert "OPENAKERUN_MASTER_KEY" in message and "keys init-master" in message and "\n" not in message
    assert current_revision(at_0001) == "0001"
    with at_0001.connect() as connection:
        assert connection.execute(text("SELECT site_key FROM site")).scalar_one() == SITE_KEY.hex()
        assert "door_key" not in inspect(connection).get_table_names()


def test_the_cli_upgrade_refuses_in_one_line(tmp_path: Path) -> None:
    with scratch_database("sqlite", POSTGRES_URL, "unused", revision="0001") as engine:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO site (name, timezone, site_key, created_at) VALUES ('a', 'UTC', :k, 0)"),
                {"k": SITE_KEY.hex()},
            )
        environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAKERUN_MASTER_KEY")}
        environment.update(
            DATABASE_URL=engine.url.render_as_string(hide_password=False),
            OPENAKERUN_MASTER_KEY_FILE=str(tmp_path / "absent.key"),
            PYTHONPATH=str(REPO),
        )
        refused = subprocess.run(
            [sys.executable, "-m", "cloud", "db", "upgrade"], env=environment, capture_output=True, text=True
        )
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.count("\n") == 1 and "migration 0002" in refused.stderr
        assert current_revision(engine) == "0001"


def test_with_the_master_key_secrets_are_sealed_identifiers_dropped_and_the_new_code_works(
    at_0001: Engine,
) -> None:
    upgrade(at_0001)
    assert current_revision(at_0001) == head_revision()
    with at_0001.connect() as connection:
        columns = {
            table: {c["name"] for c in inspect(connection).get_columns(table)}
            for table in ("site", "door", "credential")
        }
        dump = repr(connection.execute(text("SELECT * FROM site")).all())
        dump += repr(connection.execute(text("SELECT * FROM door")).all())
        dump += repr(connection.execute(text("SELECT * FROM door_key")).all())
        dump += repr(connection.execute(text("SELECT * FROM credential")).all())
    assert "site_key" not in columns["site"] and "device_secret" not in columns["door"]
    assert "identifier" not in columns["credential"]
    for secret in (SITE_KEY.hex(), DEVICE_SECRET.hex(), *(identifier for _, _, identifier, _ in CREDENTIALS)):
        assert secret not in dump.lower()
    with Session(at_0001) as session:
        site, door = session.get(Site, 1), session.get(Door, 1)
        assert site is not None and door is not None
        assert site_key(site) == SITE_KEY
        assert door_keys(session=session, door=door) == [(1, DEVICE_SECRET)]
        assert door.epoch == 1 and door.retired_at == 0

    key = issue_key(at_0001, "admin", None, "after-migration")
    with TestClient(create_app(engine=at_0001)) as client:
        headers = {"Authorization": f"Bearer {key}"}
        listed = {c["id"]: c for c in client.get(API + "/credentials", headers=headers).json()["data"]}
        assert [
            (listed[i]["identifier_hint"], listed[i]["assurance"], listed[i]["not_unique"]) for i in (1, 2, 3)
        ] == [
            ("felica:****CDEF", "uid", False),
            ("iso14443a:****3344", "nuid", True),
            ("", "token", False),
        ]
        # The stored hashes still find the same card under another spelling...
        again = client.post(
            API + "/credentials",
            headers=headers,
            json={"user_id": 1, "kind": "felica", "identifier": "01:27:00:00:00:AB:CD:EF"},
        )
        assert again.status_code == 409
        # ...and new enrolments are hashed with the unsealed site key.
        new = client.post(
            API + "/credentials",
            headers=headers,
            json={"user_id": 1, "kind": "felica", "identifier": "0127000000000042"},
        )
        assert new.status_code == 201 and new.json()["cred_hash"] == credential_hash(
            SITE_KEY, "felica", "0127000000000042"
        )
        door = client.get(API + "/doors/1", headers=headers).json()
        assert (door["epoch"], door["key_generation"], door["rekey_state"]) == (1, 1, "none")
        bundle = client.post(API + "/doors/1/provision", headers=headers).json()
        assert (bundle["epoch"], bundle["key_generation"], bundle["site_key"]) == (2, 2, SITE_KEY.hex())
        assert bundle["device_secret"] != DEVICE_SECRET.hex()
