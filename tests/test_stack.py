"""`make run` (tools/stack.py) brings up the cloud API and a simulated lock, and stops them all cleanly."""

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(check, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def _healthz(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
        return bool(json.load(response)["status"] == "ok")


def _lock_answers_status(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b'{"cmd": "status"}\n')
        reader = sock.makefile("rb")
        for _ in range(50):
            line = reader.readline()
            if not line:
                return False
            if b'"status"' in line:
                return True
    return False


@pytest.mark.slow
def test_make_run_starts_api_and_lock_and_stops_on_sigterm(tmp_path: Path) -> None:
    api_port, lock_port = _free_port(), _free_port()
    stack = subprocess.Popen(
        [sys.executable, "-m", "tools.stack", "--api-port", str(api_port), "--lock-port", str(lock_port),
         "--var", str(tmp_path / "var")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert _wait_for(lambda: _healthz(api_port), 60), "cloud API never became healthy"
        assert _wait_for(lambda: _lock_answers_status(lock_port), 30), "simulated lock never answered"
        assert (tmp_path / "var" / "cloud.db").exists()
        assert (tmp_path / "var" / "sim-lock" / "data").is_dir()
    finally:
        stack.send_signal(signal.SIGTERM)
        output, _ = stack.communicate(timeout=30)
    assert stack.returncode == 0, output
    assert "stopping simulated lock" in output and "stopping cloud API" in output
