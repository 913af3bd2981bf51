"""A mobile key end to end: issued over REST, the door's compiled table installed in a simulated lock (the
real firmware on the real MicroPython, as the sync leaves its data dir), `python -m tools phone tap` opens
the door; revoked, the next table no longer has it and the same phone is refused."""

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared_schema.credentials import table_hash, table_key
from tests.cloud.conftest import Api
from tests.cloud.helpers import entries, make_door, make_rule, make_user

ROOT = Path(__file__).resolve().parents[2]
MICROPYTHON = Path(sys.executable).parent / "micropython"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _lock_config(bundle: dict[str, Any], data_dir: Path, port: int) -> dict[str, Any]:
    return {
        "hal": "sim",
        "device_id": bundle["device_id"],
        "device_secret": bundle["device_secret"],
        "key_gen": bundle["key_generation"],
        "epoch": bundle["epoch"],
        "site_key": bundle["site_key"],
        "data_dir": str(data_dir),
        "sim_data_dir": str(data_dir),
        "sim_control_port": port,
        "sim_time": "host",
        "sim_reader": "direct",
        "sim_travel_ms": 50,
        "unlock_seconds": 1,
    }


def _install_table(api: Api, door: dict[str, Any], config: dict[str, Any], tmp_path: Path) -> None:
    """What the sync would deliver: a bound time and a snapshot of the door's table, keyed by its K_table."""
    table = entries(api, door["id"])
    k_table = table_key(bytes.fromhex(config["device_secret"]))
    rows = sorted([table_hash(k_table, cred), *rest] for cred, *rest in table["entries"])
    now = int(time.time())
    spec = {
        "config": config,
        "data_dir": config["data_dir"],
        "now": now,
        "until": now + 30 * 86400,
        "ver": table["version"],
        "g": config["key_gen"],
        "entries": rows,
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(spec))
    proc = subprocess.run(
        [str(MICROPYTHON), "-X", "heapsize=4M", "tests/firmware/sim_seed_lock.py", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


class _Lock:
    def __init__(self, config: dict[str, Any], tmp_path: Path) -> None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        self.log = (tmp_path / "lock.log").open("a+")
        self.proc = subprocess.Popen(
            [str(MICROPYTHON), "firmware/main.py", "--config", str(path)],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", config["sim_control_port"]), timeout=1).close()
                return
            except OSError:
                assert self.proc.poll() is None, (tmp_path / "lock.log").read_text()
                assert time.monotonic() < deadline, "control channel never opened"
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def _phone_tap(key_path: Path, door: dict[str, Any], port: int, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tools",
            "phone",
            "--key",
            str(key_path),
            "--port",
            str(port),
            "tap",
            "--door",
            door["device_id"],
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def started() -> Iterator[list[_Lock]]:
    locks: list[_Lock] = []
    yield locks
    for lock in locks:
        if lock.proc.poll() is None:
            lock.stop()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_issue_tap_revoke_refused(operator: Api, admin: Api, tmp_path: Path, started: list[_Lock]) -> None:
    door = make_door(operator, "Front")
    other = make_door(operator, "Back")
    user = make_user(operator, "Aiko")
    make_rule(operator, user_id=user["id"], door_id=door["id"])
    make_rule(operator, user_id=user["id"], door_id=other["id"])
    zone = operator.ok("POST", "/zones", 201, json={"name": "Both", "door_ids": [door["id"], other["id"]]})
    issued = operator.ok("POST", f"/users/{user['id']}/mobile-keys", 201, json={"zone_id": zone["id"]})
    key_path = tmp_path / "key.json"
    key_path.write_text(json.dumps(issued["key_file"]))

    port = _free_port()
    config = _lock_config(door["provisioning"], tmp_path / "data", port)
    (tmp_path / "data").mkdir()
    _install_table(operator, door, config, tmp_path)
    started.append(_Lock(config, tmp_path))

    tapped = _phone_tap(key_path, door, port, "--mtu", "20")  # BLE's smallest writes
    assert tapped.returncode == 0 and tapped.stdout.strip() == "granted", tapped.stdout + tapped.stderr
    # the other door's ticket is refused here
    wrong = _phone_tap(key_path, door, port, "--ticket", other["device_id"])
    assert wrong.returncode == 1 and wrong.stdout.strip() == "refused: wrong_door", (
        wrong.stdout + wrong.stderr
    )

    operator.ok("DELETE", f"/users/{user['id']}/mobile-keys/{issued['id']}", 204)
    started[0].stop()
    _install_table(operator, door, config, tmp_path)  # the next version, without the key
    started.append(_Lock(config, tmp_path))
    refused = _phone_tap(key_path, door, port)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stdout.strip() == "refused: unknown_credential"
