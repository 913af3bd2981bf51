"""What happens around outages, on the real MicroPython and Mosquitto: the last will when the lock dies, the
status on a clean stop, reconnecting after the broker restarts (messages queued while it was down are sent
afterwards, in order), and a persistent session that receives what was published while the lock was away."""

from pathlib import Path

import pytest

from tests.fwnet.netkit import DEVICE, Agent, Mosquitto, Peer, lock_config

pytestmark = pytest.mark.slow
UP = f"locks/{DEVICE}/up"
DOWN = f"locks/{DEVICE}/down"
STATUS = f"locks/{DEVICE}/status"


def _start(tmp_path: Path, agents: list[Agent], port: int, **overrides: object) -> Agent:
    agent = Agent(tmp_path, lock_config(port, **overrides))
    agents.append(agent)
    return agent


def _retained_status(port: int, peers: list[Peer]) -> bytes:
    late = Peer(port)
    peers.append(late)
    late.subscribe(STATUS)
    topic, payload, retained = late.take()
    assert topic == STATUS and retained
    return payload


def test_last_will_offline_when_the_lock_is_killed(tmp_path: Path, broker: Mosquitto, agents: list[Agent],
                                                   peers: list[Peer]) -> None:
    watcher = Peer(broker.port)
    peers.append(watcher)
    watcher.subscribe(STATUS)
    agent = _start(tmp_path, agents, broker.port)
    agent.wait_ev("up")
    assert watcher.take()[:2] == (STATUS, b"online")
    agent.kill()  # SIGKILL: no DISCONNECT, the broker notices the closed socket and publishes the will
    assert watcher.take()[:2] == (STATUS, b"offline")
    assert _retained_status(broker.port, peers) == b"offline"


def test_clean_stop_leaves_status_offline(tmp_path: Path, broker: Mosquitto, agents: list[Agent],
                                          peers: list[Peer]) -> None:
    agent = _start(tmp_path, agents, broker.port)
    agent.wait_ev("up")
    agent.send(cmd="stop")
    agent.wait_ev("stopped")
    assert _retained_status(broker.port, peers) == b"offline"
    assert f"Client {DEVICE} disconnected." in broker.log_text()  # a DISCONNECT, not a dropped socket


def test_reconnects_after_broker_restart_and_sends_what_was_queued(tmp_path: Path, agents: list[Agent],
                                                                   peers: list[Peer]) -> None:
    # Persistence keeps the cloud's session (and its subscription) across the broker's restart, so nothing
    # the lock sends after reconnecting can miss it.
    persistent = f"allow_anonymous true\npersistence true\npersistence_location {tmp_path}/\n"
    broker = Mosquitto(tmp_path, persistent)
    broker.start()
    try:
        cloud = Peer(broker.port, client_id="cloud-1", clean_session=False)
        peers.append(cloud)
        cloud.client.reconnect_delay_set(min_delay=1, max_delay=1)
        cloud.subscribe(UP, qos=1)
        agent = _start(tmp_path, agents, broker.port, broker_max_inflight=4)
        agent.wait_ev("up")
        broker.stop()
        agent.wait_net("backoff")
        # Six QoS 1 messages while the broker is down: four fill the window, the fifth waits for a slot.
        agent.send(cmd="publish_many", topic=UP, prefix="m", count=6, qos=1)
        for i in range(4):
            agent.wait_ev("published", payload=f"m-{i}")
        agent.assert_none_within(lambda e: e.get("ev") == "published", seconds=1.5)
        agent.send(cmd="status")
        assert agent.wait_ev("status")["data"]["pending"] == 4
        broker.start()
        agent.wait_ev("up", timeout=15)
        agent.wait_ev("published", payload="m-5")
        agent.send(cmd="flush", timeout_ms=10000)
        assert agent.wait_ev("flushed", timeout=15)["ok"] is True
        got = [payload.decode() for topic, payload, _ in cloud.take_all(quiet=2.0) if topic == UP]
        # At least once, in order: QoS 1 may repeat a message (the app dedupes by the envelope counter),
        # never lose or reorder one.
        assert sorted(set(got), key=got.index) == [f"m-{i}" for i in range(6)]
        assert len(got) - 6 <= 4  # a repeat only for what was in flight when the link broke
    finally:
        broker.stop()


def test_persistent_session_receives_what_was_published_while_offline(tmp_path: Path, broker: Mosquitto,
                                                                      agents: list[Agent],
                                                                      peers: list[Peer]) -> None:
    first = _start(tmp_path, agents, broker.port, broker_clean_session=False)
    first.wait_ev("up")
    first.kill()
    cloud = Peer(broker.port)
    peers.append(cloud)
    for i in range(3):
        cloud.publish(DOWN, f"while-away-{i}".encode(), qos=1)
    second = _start(tmp_path, agents, broker.port, broker_clean_session=False)
    # The queued messages may arrive before the subscription is confirmed: the session already had it.
    for i in range(3):
        second.wait_ev("msg", payload=f"while-away-{i}")
    up = [e for e in second.events if e.get("ev") == "up"] or [second.wait_ev("up")]
    assert up[0]["session"] is True


def test_clean_session_forgets_what_was_published_while_offline(
    tmp_path: Path, broker: Mosquitto, agents: list[Agent], peers: list[Peer]
) -> None:
    # The counterpart of the test above: the difference comes from the session flag, not from chance.
    first = _start(tmp_path, agents, broker.port, broker_clean_session=True)
    first.wait_ev("up")
    first.kill()
    cloud = Peer(broker.port)
    peers.append(cloud)
    cloud.publish(DOWN, b"lost", qos=1)
    second = _start(tmp_path, agents, broker.port, broker_clean_session=True)
    assert second.wait_ev("up")["session"] is False
    second.assert_none_within(lambda e: e.get("ev") == "msg", seconds=1.5)
