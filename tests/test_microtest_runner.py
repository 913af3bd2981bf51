"""The MicroPython runner reports failures and exits non-zero, so a firmware failure fails `make test`."""

import subprocess

from tests.test_micropython_suites import MICROPYTHON, ROOT


def _run(test_file: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MICROPYTHON, "tests/microtest.py", test_file], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_a_failing_test_makes_the_runner_exit_non_zero() -> None:
    proc = _run("tests/runner_fixtures/half_failing_suite.py")
    assert proc.returncode == 1
    assert "PASS test_passes" in proc.stdout
    assert "FAIL test_fails" in proc.stdout and "deliberate" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "1 passed, 1 failed"
    assert "micropython 1." in proc.stdout


def test_a_suite_without_tests_counts_as_failed() -> None:
    proc = _run("tests/runner_fixtures/__init__.py")
    assert proc.returncode == 1
    assert proc.stdout.strip().splitlines()[-1] == "0 passed, 0 failed"
