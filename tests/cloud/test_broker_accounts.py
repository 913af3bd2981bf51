"""Broker accounts: a real Mosquitto 2.0 accepts the password file written from the cloud's stored hashes.

A door's bundle password connects as its device id; a wrong password, another door's password or a retired
door do not; re-provisioning replaces the password; the cloud's own account (mosquitto_passwd) is kept.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloud.lockkeys.broker import mosquitto_hash, mosquitto_hash_matches
from cloud.main import create_app
from cloud.scratch import sqlite_database
from tests.cloud.conftest import Api, issue_key

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _eventually(check: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def connects(port: int, username: str, password: str) -> bool:
    """True if the broker answers CONNACK success to these credentials (MQTT 3.1.1)."""
    answered = threading.Event()
    outcome: dict[str, bool] = {}

    def on_connect(_client: Any, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
        outcome["ok"] = not reason.is_failure
        answered.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
    client.username_pw_set(username, password)
    client.on_connect = on_connect
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    try:
        assert answered.wait(10), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return outcome["ok"]


@pytest.fixture
def cloud_db() -> Iterator[Engine]:
    with sqlite_database() as engine:
        yield engine


def _write_password_file(engine: Engine, out: Path, include: Path) -> None:
    environment = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    environment["PYTHONPATH"] = str(REPO)
    command = ["broker", "password-file", "--out", str(out), "--include", str(include)]
    result = subprocess.run(
        [sys.executable, "-m", "cloud", *command], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_mosquitto_accepts_the_password_file_written_from_the_cloud_hashes(
    cloud_db: Engine, tmp_path: Path
) -> None:
    with TestClient(create_app(engine=cloud_db)) as client:
        api = Api(client, issue_key(cloud_db, "admin", None, "root"))
        site = api.ok("POST", "/sites", 201, json={"name": "HQ"})
        front, back = (
            api.ok(
                "POST", "/doors", 201, json={"name": name, "device_id": name.lower(), "site_id": site["id"]}
            )
            for name in ("Front", "Back")
        )
        cloud_account = tmp_path / "cloud.passwd"
        subprocess.run(["mosquitto_passwd", "-c", "-b", str(cloud_account), "cloud", "worker-pw"], check=True)
        passwd = tmp_path / "passwd"
        _write_password_file(cloud_db, passwd, cloud_account)
        lines = passwd.read_text().splitlines()
        assert [line.split(":", 1)[0] for line in lines] == ["cloud", "back", "front"]
        assert all(line.split(":", 1)[1].startswith("$7$") for line in lines)

        port = _free_port()
        config = tmp_path / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\n"
            "persistence false\nuser root\n"
        )
        mosquitto = subprocess.Popen(
            ["mosquitto", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            assert _eventually(lambda: _listening(port)), "mosquitto did not start"
            front_password = front["provisioning"]["broker_password"]
            back_password = back["provisioning"]["broker_password"]
            assert connects(port, "front", front_password)
            assert connects(port, "back", back_password)
            assert connects(port, "cloud", "worker-pw")
            assert not connects(port, "front", back_password)
            assert not connects(port, "front", front_password + "x")
            assert not connects(port, "nobody", front_password)

            again = api.ok("POST", f"/doors/{front['id']}/provision")
            api.ok("POST", f"/doors/{back['id']}/retire")
            _write_password_file(cloud_db, passwd, cloud_account)
            assert [line.split(":", 1)[0] for line in passwd.read_text().splitlines()] == ["cloud", "front"]
            mosquitto.send_signal(signal.SIGHUP)  # reloads the password file
            assert _eventually(lambda: not connects(port, "front", front_password)), (
                "old password still accepted"
            )
            assert connects(port, "front", again["broker_password"])
            assert not connects(port, "back", back_password)
            assert connects(port, "cloud", "worker-pw")
        finally:
            mosquitto.terminate()
            mosquitto.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_hashes_follow_the_mosquitto_passwd_format(tmp_path: Path) -> None:
    made = tmp_path / "made"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(made), "lock", "pa55word"], check=True)
    theirs = made.read_text().strip().split(":", 1)[1]
    assert mosquitto_hash_matches("pa55word", theirs) and not mosquitto_hash_matches("pa55wore", theirs)
    ours = mosquitto_hash("pa55word")
    assert ours.split("$")[1:3] == theirs.split("$")[1:3]  # $7$, same iteration count
    assert mosquitto_hash_matches("pa55word", ours) and ours != mosquitto_hash("pa55word")  # salted
