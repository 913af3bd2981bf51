"""`python -m tools`: every command is listed and answers --help (the installer's first contact)."""

import subprocess
import sys

from tools.__main__ import command_modules


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools", *args], capture_output=True, text=True, timeout=60)


def test_every_command_is_listed_and_has_help() -> None:
    listing = _run("--help")
    assert listing.returncode == 0, listing.stderr
    names = [module.NAME for module in command_modules()]
    assert "stack" in names
    for name in names:
        assert name in listing.stdout
        answer = _run(name, "--help")
        assert answer.returncode == 0 and answer.stdout.startswith(f"usage: python -m tools {name}"), answer


def test_an_unknown_command_is_refused_with_the_list() -> None:
    answer = _run("fly")
    assert answer.returncode == 2 and "invalid choice" in answer.stderr and "stack" in answer.stderr
