"""TLS between the lock and a real Mosquitto, with certificates made by openssl for each test run (P-256):
the lock connects with the broker's CA pinned (DER or PEM file), and refuses, with a clear error and never
in plain text, a broker whose certificate another CA signed or that carries another name."""

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fwnet.netkit import DEVICE, Agent, Mosquitto, Peer, lock_config, make_pki, tls_listener, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path, "allow_anonymous true\npersistence false\n" + tls_listener(pki)).start()
    yield broker
    broker.stop()


def _agent(tmp_path: Path, agents: list[Agent], port: int, ca: Path | None, **overrides: object) -> Agent:
    settings: dict[str, object] = {"broker_tls": True, "broker_hostname": "localhost"}
    if ca is not None:
        settings["broker_ca"] = str(ca)
    settings.update(overrides)
    agent = Agent(tmp_path, lock_config(port, **settings))
    agents.append(agent)
    return agent


@pytest.mark.parametrize("ca_file", ["ca.der", "ca.pem"])
def test_connects_with_the_pinned_ca(tmp_path: Path, pki: Path, tls_broker: Mosquitto, agents: list[Agent],
                                     peers: list[Peer], ca_file: str) -> None:
    agent = _agent(tmp_path, agents, tls_broker.port, pki / ca_file)
    agent.wait_ev("up")
    cloud = Peer(tls_broker.port, tls_ca=pki / "ca.pem")
    peers.append(cloud)
    cloud.subscribe(f"locks/{DEVICE}/up")
    cloud.publish(f"locks/{DEVICE}/down", b"over-tls")
    agent.wait_ev("msg", payload="over-tls")
    agent.send(cmd="publish", topic=f"locks/{DEVICE}/up", payload="back-over-tls")
    assert cloud.take()[:2] == (f"locks/{DEVICE}/up", b"back-over-tls")


def _refused(agent: Agent) -> dict:
    event = agent.wait_for(lambda e: e.get("ev") == "net" and "error" in e["data"])
    agent.wait_net("connecting")  # and it tries again later: a refusal is not the end of the lock
    assert not [e for e in agent.drain() if e.get("ev") == "up"]
    return event["data"]


def test_a_certificate_from_another_ca_is_refused(tmp_path: Path, pki: Path, tls_broker: Mosquitto,
                                                  agents: list[Agent]) -> None:
    data = _refused(_agent(tmp_path, agents, tls_broker.port, pki / "rogue-ca.der"))
    assert data["error"] == "tls_refused"
    assert data["detail"].endswith("The certificate is not correctly signed by the trusted CA")
    assert f"as {DEVICE}" not in tls_broker.log_text()  # no MQTT session was ever opened


def test_a_certificate_for_another_name_is_refused(tmp_path: Path, pki: Path, tls_broker: Mosquitto,
                                                   agents: list[Agent]) -> None:
    agent = _agent(tmp_path, agents, tls_broker.port, pki / "ca.der", broker_hostname="broker.example")
    data = _refused(agent)
    assert data["error"] == "tls_refused"
    assert "name broker.example" in data["detail"] and "Common Name (CN) does not match" in data["detail"]
    assert f"as {DEVICE}" not in tls_broker.log_text()


def test_never_falls_back_to_plain_text(tmp_path: Path, pki: Path, agents: list[Agent]) -> None:
    # A plain TCP server where the lock expects TLS: it must see a TLS ClientHello, never an MQTT CONNECT.
    received: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    received.append(conn.recv(4096))
                    conn.sendall(b"\x20\x02\x00\x00")  # a plain CONNACK: not TLS, so the handshake must fail
                    received.append(conn.recv(4096))
                except OSError:
                    pass

    threading.Thread(target=accept, daemon=True).start()
    try:
        agent = _agent(tmp_path, agents, server.getsockname()[1], pki / "ca.der")
        agent.wait_for(lambda e: e.get("ev") == "net" and "error" in e["data"])
        agent.wait_net("connecting")
        wait_until(lambda: len(received) >= 2)
        assert received[0][:1] == b"\x16"  # TLS handshake record
        assert not any(b"MQTT" in chunk for chunk in received)
        assert not [e for e in agent.drain() if e.get("ev") == "up"]
    finally:
        server.close()


def test_tls_without_a_ca_does_not_start(tmp_path: Path, agents: list[Agent]) -> None:
    agent = _agent(tmp_path, agents, 8883, None)
    assert "broker_ca" in agent.wait_ev("config_error")["error"]


def test_a_ca_file_that_is_not_a_certificate_does_not_start(tmp_path: Path, agents: list[Agent]) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    agent = _agent(tmp_path, agents, 8883, bogus)
    assert "not a DER or PEM certificate" in agent.wait_ev("config_error")["error"]
