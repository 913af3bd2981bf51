"""Helpers of the integration tests: a webhook receiver in its own process, a clock the test moves, the
cloud behind a real HTTP server, and the code examples of docs/INTEGRATIONS.md."""

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "INTEGRATIONS.md"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FakeClock:
    """Unix time that moves only when the test says so."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ReceiverProcess:
    """tests/cloud/webhook_receiver.py on a fixed port: start, kill (the port refuses), start again."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.log = folder / "received.jsonl"
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/openakerun"

    def start(self, fail_first: int = 0, status: int = 503) -> None:
        command = [sys.executable, "-m", "tests.cloud.webhook_receiver", "--port", str(self.port)]
        command += ["--log", str(self.log), "--fail-first", str(fail_first), "--status", str(status)]
        self.process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready"

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def received(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn server in a thread, for clients that need a socket; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def docs_example(name: str = "receiver") -> str:
    """A code example of docs/INTEGRATIONS.md: the ```python block after <!-- {name}-example -->."""
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}-example -->\s*```python\n(.*?)```", text, re.S)
    assert match, f"docs/INTEGRATIONS.md lost its {name} example"
    return match.group(1)


def docs_namespace(name: str) -> dict[str, Any]:
    """What the docs' example defines (run as a module, not as a script)."""
    namespace: dict[str, Any] = {"__name__": f"docs_{name}_example"}
    exec(compile(docs_example(name), str(DOCS), "exec"), namespace)  # noqa: S102 (our own documentation)
    return namespace


def docs_verify() -> Any:
    """verify_signature() as defined by the docs' receiver example."""
    return docs_namespace("receiver")["verify_signature"]
