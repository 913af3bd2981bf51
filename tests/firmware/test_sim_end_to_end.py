"""The whole firmware on the real MicroPython interpreter with the simulated HAL, seen from outside.

Starts `micropython firmware/main.py --config <temp config>` as a subprocess, talks to its control channel
over TCP (JSON lines, docs/SIMULATOR.md) and checks what a person at the door would see: a permitted card
turns the thumb-turn to unlock and it locks again by itself; an unknown card is refused without a move;
garbage on the channel is answered with an error and the lock keeps running.
"""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared_schema.credentials import credential_hash, table_hash, table_key

ROOT = Path(__file__).resolve().parents[2]
MICROPYTHON = Path(sys.executable).parent / "micropython"
SITE_KEY_HEX = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
PERMITTED = ("iso14443a", "04a1b2c3d4e5f6")
PERMITTED_FELICA = ("felica", "012e4cd812345678")
UNKNOWN = ("iso14443a", "04ffeeddccbbaa")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed_store(tmp_path: Path, data_dir: Path) -> None:
    # The core's own PermStore writes the snapshot (see sim_seed_store.py for why through the data dir).
    key = bytes.fromhex(SITE_KEY_HEX)
    # The lock's table is keyed by its own K_table (from the device secret in sim_config.json).
    secret = json.loads((ROOT / "firmware" / "sim_config.json").read_text())["device_secret"]
    k_table = table_key(bytes.fromhex(secret))
    # [table hash, role normal, no validity limits, no windows]: always valid, so no clock is needed.
    cards = (PERMITTED, PERMITTED_FELICA)
    hashes = [table_hash(k_table, credential_hash(key, kind, uid)) for kind, uid in cards]
    entries = sorted([h, 0, 0, 0, []] for h in hashes)
    spec = tmp_path / "snapshot.json"
    spec.write_text(json.dumps({"data_dir": str(data_dir), "ver": 1, "entries": entries}))
    proc = subprocess.run([str(MICROPYTHON), "tests/firmware/sim_seed_store.py", str(spec)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


class Channel:
    """A control-channel client that keeps every line it has read."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.file = self.sock.makefile("rwb")
        self.seen: list[dict] = []

    def send(self, obj: dict | bytes) -> None:
        raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.file.write(raw + b"\n")
        self.file.flush()

    def next(self, timeout: float) -> dict | None:
        self.sock.settimeout(timeout)
        try:
            line = self.file.readline()
        except TimeoutError:
            return None
        assert line, "the lock closed the control channel"
        obj = json.loads(line)
        self.seen.append(obj)
        return obj

    def wait_for(self, predicate, timeout: float = 5.0) -> dict:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            obj = self.next(max(0.05, deadline - time.monotonic()))
            if obj is not None and predicate(obj):
                return obj
        raise AssertionError(f"not seen within {timeout}s; saw {self.seen[-15:]}")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def _report(kind: str, **fields):  # type: ignore[no-untyped-def]
    return lambda obj: obj.get("report") == kind and all(obj["data"].get(k) == v for k, v in fields.items())


# A relay door (docs/HARDWARE.md): a fail-secure strike on the relay's NO contact, held while unlocked.
RELAY_STRIKE = {"actuator": "relay", "relay_pin": 32, "relay_mode": "hold", "relay_active_high": True,
                "relay_fail_safe": False}


def _lock(tmp_path: Path, overrides: dict):  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _seed_store(tmp_path, data_dir)
    config = json.loads((ROOT / "firmware" / "sim_config.json").read_text())
    port = _free_port()
    config.update(sim_control_port=port, data_dir=str(data_dir), sim_data_dir=str(data_dir), unlock_seconds=1,
                  sim_travel_ms=100, site_key=SITE_KEY_HEX)
    config.update(overrides)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    log = (tmp_path / "lock.log").open("w+")
    proc = subprocess.Popen([str(MICROPYTHON), "firmware/main.py", "--config", str(config_path)], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    channel = None
    while channel is None:
        try:
            channel = Channel(port)
        except OSError:
            assert proc.poll() is None, "the lock exited: " + (tmp_path / "lock.log").read_text()
            assert time.monotonic() < deadline, "control channel never opened"
            time.sleep(0.1)
    yield proc, channel
    channel.close()
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def lock(tmp_path: Path):  # type: ignore[no-untyped-def]
    yield from _lock(tmp_path, {})


@pytest.fixture
def strike_lock(tmp_path: Path):  # type: ignore[no-untyped-def]
    # With a lock-state contact, so a door opened while the strike is locked is known to be forced.
    yield from _lock(tmp_path, dict(RELAY_STRIKE, relay_feedback_pin=33))


@pytest.fixture
def automatic_door(tmp_path: Path):  # type: ignore[no-untyped-def]
    yield from _lock(tmp_path, dict(RELAY_STRIKE, relay_mode="pulse", relay_pulse_ms=300,
                                    relay_active_high=False, unlock_seconds=3))


def test_permitted_card_unlocks_and_the_lock_relocks_itself(lock) -> None:  # type: ignore[no-untyped-def]
    proc, channel = lock
    hello = channel.wait_for(lambda o: o.get("report") == "hello")
    assert hello["data"]["position"] == "lock" and hello["data"]["moves"] == 0  # never moved at boot

    channel.send({"cmd": "tap", "kind": PERMITTED[0], "uid": PERMITTED[1]})
    decision = channel.wait_for(_report("decision"))
    assert decision["data"]["granted"] is True, decision
    channel.wait_for(_report("actuator", move="unlock"))
    channel.wait_for(_report("actuator", at="unlock"))
    channel.wait_for(_report("bolt", bolt="unlocked"))
    # unlock_seconds = 1: the lock turns back by itself.
    channel.wait_for(_report("actuator", move="lock"), timeout=5)
    channel.wait_for(_report("actuator", at="lock"))
    channel.wait_for(_report("bolt", bolt="locked"))
    events = [o["data"]["type"] for o in channel.seen if o.get("report") == "event"]
    assert "granted" in events and "auto_lock" in events, events

    channel.send({"cmd": "tap", "kind": PERMITTED_FELICA[0], "uid": PERMITTED_FELICA[1]})
    assert channel.wait_for(_report("decision"))["data"]["granted"] is True
    channel.wait_for(_report("actuator", move="unlock"))
    assert proc.poll() is None


def test_unknown_card_is_denied_without_a_move(lock) -> None:  # type: ignore[no-untyped-def]
    proc, channel = lock
    channel.send({"cmd": "tap", "kind": UNKNOWN[0], "uid": UNKNOWN[1]})
    decision = channel.wait_for(_report("decision"))
    assert decision["data"]["granted"] is False
    assert decision["data"]["reason"] == "unknown_credential"
    channel.wait_for(_report("led", pattern="denied"))
    time.sleep(0.5)  # longer than a poll cycle and the simulated travel time
    channel.send({"cmd": "status"})
    status = channel.wait_for(lambda o: o.get("reply") == "status")["status"]
    assert status["moves"] == 0 and status["position"] == "lock", status
    assert not any(o.get("report") == "actuator" for o in channel.seen), channel.seen


def test_garbage_gets_an_error_and_the_lock_keeps_running(lock) -> None:  # type: ignore[no-untyped-def]
    proc, channel = lock
    for garbage, code in ((b"\x00\xff{{{", "bad_json"), (b'"just a string"', "not_an_object"),
                          (b'{"cmd": "tap", "uid": "not hex"}', "bad_uid"), (b'{"cmd": "self_destruct"}',
                                                                              "unknown_command")):
        channel.send(garbage)
        assert channel.wait_for(lambda o: "error" in o)["error"] == code
    channel.send(b"y" * 5000)
    assert channel.wait_for(lambda o: "error" in o)["error"] == "line_too_long"
    # A client that hangs up mid-line does not hurt either.
    rude = Channel(channel.sock.getpeername()[1])
    rude.sock.sendall(b'{"cmd": "ta')
    rude.close()
    channel.send({"cmd": "ping", "id": 42})
    assert channel.wait_for(lambda o: o.get("reply") == "ping") == {"reply": "ping", "ok": True, "id": 42}
    channel.send({"cmd": "tap", "kind": PERMITTED[0], "uid": PERMITTED[1]})
    assert channel.wait_for(_report("decision"))["data"]["granted"] is True
    assert proc.poll() is None


def test_bad_config_stops_with_a_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"hal": "arduino"}))
    proc = subprocess.run([str(MICROPYTHON), "firmware/main.py", "--config", str(config)], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "config hal" in proc.stdout and "arduino" in proc.stdout
    config.write_text("{not json")
    proc = subprocess.run([str(MICROPYTHON), "firmware/main.py", "--config", str(config)], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "config_not_json" in proc.stdout


def test_virtual_door_cli_taps_and_prints_what_the_lock_reports(lock, capsys) -> None:  # type: ignore[no-untyped-def]
    from tools import virtual_door

    proc, channel = lock
    port = channel.sock.getpeername()[1]
    assert virtual_door.main(["--port", str(port), "tap", PERMITTED[1], "--wait", "1.5"]) == 0
    out = capsys.readouterr().out
    assert "ok: tap" in out
    assert 'decision  ' in out and "granted=true" in out, out
    assert 'actuator  jammed=false move="unlock"' in out, out
    assert virtual_door.main(["--port", str(port), "--wait", "0.5", "door", "open"]) == 0
    assert "door_sensor open=true" in capsys.readouterr().out
    assert virtual_door.main(["--port", str(port), "--wait", "0.5", "tap", "zz"]) == 1
    assert "refused: bad_uid" in capsys.readouterr().out
    assert virtual_door.main(["--port", str(port), "--wait", "0.5", "exit", "--ms", "0"]) == 1
    assert "refused: bad_field (ms: how long the button is held" in capsys.readouterr().out
    assert virtual_door.main(["--port", str(port), "--wait", "0.5", "exit", "--ms", "300"]) == 0
    assert 'event     cred="" reason="exit_button" ' in capsys.readouterr().out
    assert virtual_door.main(["--port", str(port), "--wait", "0.5", "history"]) == 0
    assert 'event     cred="" reason="power_on"' in capsys.readouterr().out
    assert virtual_door.main(["--port", str(_free_port()), "status"]) == 2
    assert "no simulated lock" in capsys.readouterr().err


def test_second_lock_on_the_same_port_stops_with_a_clear_message(lock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc, channel = lock
    config = json.loads((ROOT / "firmware" / "sim_config.json").read_text())
    data = tmp_path / "other"
    config.update(sim_control_port=channel.sock.getpeername()[1], data_dir=str(data), sim_data_dir=str(data))
    path = tmp_path / "other.json"
    path.write_text(json.dumps(config))
    second = subprocess.run([str(MICROPYTHON), "firmware/main.py", "--config", str(path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert "cannot listen on 127.0.0.1" in second.stdout, second.stdout
    channel.send({"cmd": "ping"})
    assert channel.wait_for(lambda o: o.get("reply") == "ping")["ok"] is True  # the first one is unaffected
    assert proc.poll() is None


def test_boot_after_a_watchdog_reset_is_logged_and_never_moves(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _seed_store(tmp_path, data)
    config = json.loads((ROOT / "firmware" / "sim_config.json").read_text())
    port = _free_port()
    config.update(sim_control_port=port, data_dir=str(data), sim_data_dir=str(data),
                  sim_boot_reason="watchdog")
    (tmp_path / "config.json").write_text(json.dumps(config))
    proc = subprocess.Popen([str(MICROPYTHON), "firmware/main.py", "--config", str(tmp_path / "config.json")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        channel = None
        for _ in range(200):
            try:
                channel = Channel(port)
                break
            except OSError:
                time.sleep(0.05)
        assert channel is not None, "control channel never opened"
        time.sleep(0.5)  # a few core steps
        channel.send({"cmd": "history"})
        reports = channel.wait_for(lambda o: o.get("reply") == "history")["reports"]
        boot = [r["data"] for r in reports if r["report"] == "event" and r["data"]["type"] == "boot"]
        assert boot and boot[0]["reason"] == "watchdog", reports
        assert not [r for r in reports if r["report"] == "actuator"], reports
        channel.send({"cmd": "status"})
        status = channel.wait_for(lambda o: o.get("reply") == "status")["status"]
        assert status["moves"] == 0 and status["boot_reason"] == "watchdog"
        channel.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_jammed_thumb_turn_is_retried_once_then_reported(lock) -> None:  # type: ignore[no-untyped-def]
    proc, channel = lock
    channel.send({"cmd": "jam", "on": True})
    channel.wait_for(lambda o: o.get("reply") == "jam")
    channel.send({"cmd": "tap", "kind": PERMITTED[0], "uid": PERMITTED[1]})
    assert channel.wait_for(_report("decision"))["data"]["granted"] is True
    channel.wait_for(_report("actuator", move="unlock", jammed=True))
    channel.wait_for(_report("actuator", move="unlock", jammed=True), timeout=5)  # the one retry
    channel.wait_for(_report("bolt", bolt="jammed"), timeout=5)
    channel.wait_for(_report("led", pattern="jammed"))
    events = [o["data"]["type"] for o in channel.seen if o.get("report") == "event"]
    assert "jammed" in events, events
    moves = [o for o in channel.seen if o.get("report") == "actuator" and "move" in o["data"]]
    assert len(moves) == 2, moves
    assert proc.poll() is None


def test_exit_button_and_door_sensor(lock) -> None:  # type: ignore[no-untyped-def]
    proc, channel = lock
    channel.send({"cmd": "exit"})
    channel.wait_for(_report("actuator", move="unlock"))
    channel.wait_for(_report("bolt", bolt="unlocked"))
    channel.send({"cmd": "door", "open": True})
    channel.wait_for(_report("door", open=True))
    channel.send({"cmd": "door", "open": False})
    channel.wait_for(_report("door", open=False))
    channel.wait_for(_report("actuator", move="lock"), timeout=5)  # re-locked once the door closed
    events = [o["data"]["type"] for o in channel.seen if o.get("report") == "event"]
    assert events[:3] == ["exit_request", "door_open", "door_closed"], events


def test_relay_strike_holds_while_unlocked_relocks_on_close_and_reports_a_forced_door(strike_lock) -> None:  # type: ignore[no-untyped-def]
    proc, channel = strike_lock
    hello = channel.wait_for(lambda o: o.get("report") == "hello")
    assert hello["data"]["actuator"] == "relay" and hello["data"]["relay"]["energised"] is False, hello
    channel.send({"cmd": "tap", "kind": PERMITTED[0], "uid": PERMITTED[1]})
    channel.wait_for(_report("relay", energised=True, level=1))
    channel.wait_for(_report("actuator", at="unlock"))  # the lock-state contact
    channel.wait_for(_report("bolt", bolt="unlocked"))
    channel.send({"cmd": "door", "open": True})
    channel.wait_for(_report("door", open=True))
    time.sleep(1.5)  # past unlock_seconds: the strike stays released while the door is open
    assert not any(o.get("report") == "relay" and o["data"]["energised"] is False for o in channel.seen)
    channel.send({"cmd": "door", "open": False})
    channel.wait_for(_report("relay", energised=False, level=0))
    channel.wait_for(_report("bolt", bolt="locked"))
    # Opened again with the strike locked and confirmed by its contact, nobody let in: forced.
    channel.send({"cmd": "door", "open": True})
    forced = channel.wait_for(_report("event", type="tamper"))
    assert forced["data"]["reason"] == "forced", forced
    channel.wait_for(_report("led", pattern="error"))
    assert proc.poll() is None


def test_automatic_door_gets_one_pulse_per_unlock(automatic_door) -> None:  # type: ignore[no-untyped-def]
    proc, channel = automatic_door
    channel.wait_for(lambda o: o.get("report") == "hello")
    for kind, uid in (PERMITTED, PERMITTED_FELICA):  # the second while the lock still counts as unlocked
        channel.send({"cmd": "tap", "kind": kind, "uid": uid})
        channel.wait_for(_report("relay", energised=True, level=0))  # active low
        channel.wait_for(_report("relay", energised=False, level=1))
    channel.send({"cmd": "status"})
    status = channel.wait_for(lambda o: o.get("reply") == "status")["status"]
    assert status["relay"]["pulses"] == 2 and status["relay"]["mode"] == "pulse", status
    assert proc.poll() is None
