"""Runs every MicroPython test file on the real `micropython` interpreter.

A test file takes part when it contains a line `# micropython-test` (optionally `heapsize=NNK`,
default 100K, the heap of an ESP32 without PSRAM). Files named test_*.py also run under CPython as
ordinary pytest modules; files named mp_test_*.py are MicroPython-only (they use vfs, micropython...).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^# micropython-test(?:\s+heapsize=(\w+))?\s*$", re.M)
MICROPYTHON = os.environ.get("MICROPYTHON") or str(Path(sys.executable).parent / "micropython")
SUITE_RESULTS: list[str] = []


def _suites() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        match = MARKER.search(path.read_text(encoding="utf-8"))
        if match:
            found.append((str(path.relative_to(ROOT)), match.group(1) or "100K"))
    return found


@pytest.mark.parametrize(("test_file", "heapsize"), _suites())
def test_suite_passes_on_micropython(test_file: str, heapsize: str) -> None:
    proc = subprocess.run(
        [MICROPYTHON, "-X", f"heapsize={heapsize}", "tests/microtest.py", test_file],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = proc.stdout.strip().splitlines()
    summary = " | ".join(lines[-2:]) if len(lines) >= 2 else proc.stdout
    SUITE_RESULTS.append(f"heapsize={heapsize} {summary}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
