"""The master key (environment or file, `keys init-master`, refusal to start without it) and the sealing of
stored secrets (bound to their row and column, tied to one master key)."""

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from cloud.crud.sites import site_key
from cloud.lockkeys.service import door_keys
from cloud.main import create_app
from cloud.models.door import Door
from cloud.models.site import Site
from cloud.settings import Settings
from cloud.vault.master import (
    MasterKeyError,
    create_master_key_file,
    forget_master_key,
    install_master_key,
    load_master_key,
    parse_master_key,
)
from cloud.vault.sealing import Sealer, SealError
from tests.cloud.conftest import TEST_MASTER_KEY, Api
from tests.cloud.helpers import make_door

REPO = Path(__file__).resolve().parents[2]
KEY = bytes(range(32))


def test_master_key_is_read_as_hex_or_base64_and_anything_else_is_refused() -> None:
    assert parse_master_key(KEY.hex(), "x") == KEY
    assert parse_master_key(KEY.hex().upper() + "\n", "x") == KEY
    assert parse_master_key(base64.b64encode(KEY).decode(), "x") == KEY
    for bad in ("", "00" * 31, "00" * 33, base64.b64encode(KEY[:16]).decode(), "not a key at all!"):
        with pytest.raises(MasterKeyError, match="init-master") as refused:
            parse_master_key(bad, "OPENAKERUN_MASTER_KEY")
        assert "\n" not in str(refused.value) and (not bad or bad not in str(refused.value))


def test_the_environment_wins_then_the_file_and_none_is_a_one_line_refusal(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    missing = Settings(master_key=None, master_key_file=path)
    with pytest.raises(MasterKeyError) as refused:
        load_master_key(missing)
    message = str(refused.value)
    assert "\n" not in message and "OPENAKERUN_MASTER_KEY" in message and "keys init-master" in message
    create_master_key_file(path)
    from_file = load_master_key(missing)
    assert len(from_file) == 32
    assert load_master_key(Settings(master_key=KEY.hex(), master_key_file=path)) == KEY
    with pytest.raises(MasterKeyError):
        create_app(Settings(master_key=None, master_key_file=tmp_path / "absent.key"))
    forget_master_key()


def _cloud(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAKERUN_MASTER_KEY")}
    environment.update(DATABASE_URL=f"sqlite:///{tmp_path}/cloud.db", PYTHONPATH=str(REPO), **env)
    return subprocess.run(
        [sys.executable, "-m", "cloud", *args], cwd=tmp_path, env=environment, capture_output=True, text=True
    )


def test_init_master_writes_a_private_key_file_once_and_serve_refuses_without_one(tmp_path: Path) -> None:
    assert _cloud(["db", "upgrade"], tmp_path).returncode == 0  # an empty database needs no key
    refused = _cloud(["serve", "--port", "1"], tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "python -m cloud keys init-master" in refused.stderr

    created = _cloud(["keys", "init-master"], tmp_path)
    path = tmp_path / "var" / "master.key"
    assert created.returncode == 0 and stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_bytes()
    assert len(parse_master_key(content.decode(), "file")) == 32
    again = _cloud(["keys", "init-master"], tmp_path)
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr
    assert path.read_bytes() == content

    elsewhere = tmp_path / "keys" / "cloud.key"
    made = _cloud(["keys", "init-master"], tmp_path, OPENAKERUN_MASTER_KEY_FILE=str(elsewhere))
    assert made.returncode == 0
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o600


def test_a_sealed_value_opens_only_in_its_own_table_column_and_row() -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal(b"secret" * 5, table="site", column="site_key", row=7)
    assert sealer.open(sealed, table="site", column="site_key", row=7) == b"secret" * 5
    assert b"secret".hex() not in sealed and base64.b64encode(b"secret" * 5).decode() not in sealed
    for place in (("site", "site_key", 8), ("site", "other", 7), ("door_key", "site_key", 7)):
        with pytest.raises(SealError, match="altered or copied"):
            sealer.open(sealed, table=place[0], column=place[1], row=place[2])
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(SealError):
        sealer.open(tampered, table="site", column="site_key", row=7)
    with pytest.raises(SealError, match="sealed under master key"):
        Sealer(bytes(32)).open(sealed, table="site", column="site_key", row=7)
    assert KEY.hex() not in repr(sealer)


def test_secrets_copied_between_rows_do_not_open(
    admin: Api, operator: Api, site: dict[str, Any], db: Engine
) -> None:
    other_site = admin.ok("POST", "/sites", 201, json={"name": "Annex"})
    first, second = make_door(operator), make_door(operator)
    with db.begin() as connection:
        connection.execute(
            text(
                "UPDATE door_key SET secret_sealed = (SELECT secret_sealed FROM door_key WHERE door_id = :a) "
                "WHERE door_id = :b"
            ),
            {"a": first["id"], "b": second["id"]},
        )
        connection.execute(
            text(
                "UPDATE site SET site_key_sealed = (SELECT site_key_sealed FROM site WHERE id = :a) "
                "WHERE id = :b"
            ),
            {"a": site["id"], "b": other_site["id"]},
        )
    with Session(db) as session:
        door = session.get(Door, second["id"])
        site = session.get(Site, other_site["id"])
        assert door is not None and site is not None
        with pytest.raises(SealError):
            door_keys(session=session, door=door)
        with pytest.raises(SealError):
            site_key(site)


def test_another_master_key_opens_nothing_and_says_so(operator: Api, db: Engine) -> None:
    door = make_door(operator)
    try:
        install_master_key(Settings(master_key=bytes(32).hex()))
        with Session(db) as session:
            stored = session.get(Door, door["id"])
            assert stored is not None
            with pytest.raises(SealError, match="sealed under master key"):
                door_keys(session=session, door=stored)
    finally:
        install_master_key(Settings(master_key=TEST_MASTER_KEY))
