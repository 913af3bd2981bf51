"""The lock's MQTT client (firmware/net) on the real MicroPython against a real Mosquitto, with paho-mqtt on
CPython as the cloud: connect, subscribe, QoS 1 both ways, the retained status, keepalive, big messages."""

from pathlib import Path

import pytest

from tests.fwnet.netkit import DEVICE, Agent, Mosquitto, Peer, lock_config

pytestmark = pytest.mark.slow
UP = f"locks/{DEVICE}/up"
DOWN = f"locks/{DEVICE}/down"
STATUS = f"locks/{DEVICE}/status"


def _connected_agent(tmp_path: Path, agents: list[Agent], port: int, **overrides: object) -> Agent:
    agent = Agent(tmp_path, lock_config(port, **overrides))
    agents.append(agent)
    agent.wait_ev("up")
    return agent


def test_connects_subscribes_and_receives_qos1(tmp_path: Path, broker: Mosquitto, agents: list[Agent],
                                              peers: list[Peer]) -> None:
    agent = _connected_agent(tmp_path, agents, broker.port)
    cloud = Peer(broker.port)
    peers.append(cloud)
    cloud.publish(DOWN, b"first", qos=1)
    cloud.publish(DOWN, b"second", qos=1)
    assert agent.wait_ev("msg", payload="first")["topic"] == DOWN
    assert agent.wait_ev("msg", payload="second")["n"] == 2
    # The broker saw the PUBACKs: nothing is left in flight for the lock's session.
    agent.send(cmd="status")
    assert agent.wait_ev("status")["data"]["received"] == 2


def test_publish_qos1_arrives_once(tmp_path: Path, broker: Mosquitto, agents: list[Agent],
                                   peers: list[Peer]) -> None:
    cloud = Peer(broker.port)
    peers.append(cloud)
    cloud.subscribe(UP, qos=1)
    agent = _connected_agent(tmp_path, agents, broker.port)
    agent.send(cmd="publish_many", topic=UP, prefix="ev", count=10, qos=1)
    agent.send(cmd="flush")
    assert agent.wait_ev("flushed")["ok"] is True
    got = cloud.take_all(quiet=1.0)
    assert [payload for _, payload, _ in got] == [f"ev-{i}".encode() for i in range(10)]


def test_status_is_online_retained_after_connect(tmp_path: Path, broker: Mosquitto, agents: list[Agent],
                                                 peers: list[Peer]) -> None:
    _connected_agent(tmp_path, agents, broker.port)
    watcher = Peer(broker.port)  # subscribes after the fact: only a retained message reaches it
    peers.append(watcher)
    watcher.subscribe(STATUS)
    topic, payload, retained = watcher.take()
    assert (topic, payload, retained) == (STATUS, b"online", True)


def test_keepalive_holds_an_idle_connection(tmp_path: Path, broker: Mosquitto, agents: list[Agent],
                                            peers: list[Peer]) -> None:
    # keepalive 2 s: the broker drops a client silent for 3 s; the lock pings after 1 s of silence.
    agent = _connected_agent(tmp_path, agents, broker.port, keepalive_s=2)
    agent.assert_none_within(lambda e: e.get("ev") in ("net", "exit"), seconds=7)
    cloud = Peer(broker.port)
    peers.append(cloud)
    cloud.publish(DOWN, b"after-idle", qos=1)
    agent.wait_ev("msg", payload="after-idle")
    agent.send(cmd="status")
    assert agent.wait_ev("status")["data"]["connects"] == 1
    assert "PINGREQ" in broker.log_text()


def test_oversized_message_is_skipped_and_the_next_handled(tmp_path: Path, broker: Mosquitto,
                                                           agents: list[Agent], peers: list[Peer]) -> None:
    agent = _connected_agent(tmp_path, agents, broker.port)
    cloud = Peer(broker.port)
    peers.append(cloud)
    cloud.publish(DOWN, b"warm-up", qos=1)  # the first message's code paths allocate what they keep
    agent.wait_ev("msg", payload="warm-up")
    agent.send(cmd="heap")
    before = agent.wait_ev("heap")["free"]
    cloud.publish(DOWN, b"x" * 65536, qos=1)
    cloud.publish(DOWN, b"y" * 4096, qos=1)  # exactly the largest valid message: handled
    cloud.publish(DOWN, b"next", qos=1)
    assert agent.wait_ev("msg", payload="next")["n"] == 3
    assert [e["len"] for e in agent.events if e.get("ev") == "msg"] == [7, 4096, 4]
    agent.send(cmd="heap")
    assert agent.wait_ev("heap")["free"] == before
    agent.send(cmd="status")
    status = agent.wait_ev("status")["data"]
    assert status["oversized"] == 1 and status["connects"] == 1
