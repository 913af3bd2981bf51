"""`python -m cloud operators ...`: the password comes from stdin or a prompt, never from the command line,
and is never printed; the account created signs in."""

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session

from cloud.accounts.passwords import Passwords
from cloud.accounts.service import find_account
from cloud.db import make_engine
from cloud.settings import Settings

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "a long enough passphrase"


def _operators(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/cloud.db", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "cloud", "operators", *args],
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_reads_the_password_from_stdin_and_never_prints_it(tmp_path: Path) -> None:
    created = _operators(["create", "--username", "Alice", "--role", "admin"], tmp_path, PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert "'alice'" in created.stdout and "site admin" in created.stdout
    assert PASSWORD not in created.stdout + created.stderr
    engine = make_engine(f"sqlite:///{tmp_path}/cloud.db")
    with Session(engine) as session:
        account = find_account(session=session, username="alice")
        assert account is not None and account.role == "admin" and account.site_id is None
        assert Passwords(Settings()).verify(account.password_hash, PASSWORD)
    engine.dispose()
    listed = _operators(["list"], tmp_path)
    assert "alice" in listed.stdout and "$argon2" not in listed.stdout


def test_refusals_name_the_problem(tmp_path: Path) -> None:
    short = _operators(["create", "--username", "bob", "--role", "viewer"], tmp_path, "short\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    bad_name = _operators(["create", "--username", "b b", "--role", "viewer"], tmp_path, PASSWORD + "\n")
    assert bad_name.returncode == 2 and "username" in bad_name.stderr
    no_site = _operators(
        ["create", "--username", "bob", "--role", "viewer", "--site-id", "7"], tmp_path, PASSWORD
    )
    assert no_site.returncode == 2 and "no site 7" in no_site.stderr
    assert _operators(["create", "--username", "bob", "--role", "viewer"], tmp_path, PASSWORD).returncode == 0
    taken = _operators(["create", "--username", "BOB", "--role", "viewer"], tmp_path, PASSWORD)
    assert taken.returncode == 2 and "already taken" in taken.stderr
    unknown = _operators(["disable", "--username", "carol"], tmp_path)
    assert unknown.returncode == 2 and "operators list" in unknown.stderr
    assert "--password" not in _operators(["create", "--help"], tmp_path).stdout


def test_set_password_and_disable(tmp_path: Path) -> None:
    assert (
        _operators(["create", "--username", "dan", "--role", "operator"], tmp_path, PASSWORD).returncode == 0
    )
    changed = _operators(["set-password", "--username", "dan"], tmp_path, "another long passphrase\n")
    assert changed.returncode == 0 and "signed out" in changed.stdout
    assert _operators(["disable", "--username", "dan"], tmp_path).returncode == 0
    assert "disabled" in _operators(["list"], tmp_path).stdout
    engine = make_engine(f"sqlite:///{tmp_path}/cloud.db")
    with Session(engine) as session:
        account = find_account(session=session, username="dan")
        assert account is not None and account.disabled
        assert Passwords(Settings()).verify(account.password_hash, "another long passphrase")
    engine.dispose()
