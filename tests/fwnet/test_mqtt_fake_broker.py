"""The lock's MQTT client against brokers that misbehave (a small CPython TCP server playing the broker):
garbage, a remaining length longer than four bytes, packets a broker never sends, a peer that stops
answering. The client names the fault, drops that connection, reconnects, and still works afterwards.
Also what only a scripted broker can show: an unacknowledged QoS 1 message is sent again with DUP."""

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fwnet.netkit import (
    CONNACK_OK,
    DEVICE,
    Agent,
    FakeBroker,
    lock_config,
    publish_packet,
    read_packet,
    wait_until,
)

pytestmark = pytest.mark.slow
UP = f"locks/{DEVICE}/up"
DOWN = f"locks/{DEVICE}/down"
Script = Callable[[socket.socket, list], None]


def _until_closed(conn: socket.socket, log: list, name: str) -> None:
    # The lock, not this script, must end the connection (a reset too: it closed with bytes unread).
    try:
        while conn.recv(4096):
            pass
    except ConnectionResetError:
        pass
    log.append((name, "closed_by_lock"))


def _bad(name: str, after_connect: bytes, connack: bytes = CONNACK_OK) -> Script:
    def script(conn: socket.socket, log: list) -> None:
        assert read_packet(conn).type == 1  # CONNECT
        conn.sendall(connack + after_connect)
        _until_closed(conn, log, name)

    return script


def _serve_well(on_publish: Callable[[socket.socket, list, object], bool] | None = None,
                greeting: bytes = b"") -> Script:
    """A broker that answers CONNECT, SUBSCRIBE and PINGREQ, sends `greeting` after the SUBACK, and
    acknowledges a PUBLISH unless on_publish says not to (it may also close the connection)."""

    def script(conn: socket.socket, log: list) -> None:
        assert read_packet(conn).type == 1
        conn.sendall(CONNACK_OK)
        while True:
            packet = read_packet(conn)
            log.append(("packet", packet.type, packet.flags, packet.body))
            if packet.type == 8:  # SUBSCRIBE -> SUBACK granting QoS 1
                conn.sendall(b"\x90\x03" + packet.body[:2] + b"\x01" + greeting)
            elif packet.type == 12:
                conn.sendall(b"\xd0\x00")
            elif packet.type == 4:
                log.append(("puback", packet.pid))
            elif packet.type == 3 and packet.flags & 0x06:
                if on_publish is None or on_publish(conn, log, packet):
                    conn.sendall(b"\x40\x02" + packet.pid.to_bytes(2, "big"))

    return script


def _agent(tmp_path: Path, agents: list[Agent], port: int, **overrides: object) -> Agent:
    settings = {"broker_backoff_min_ms": 50, "broker_backoff_max_ms": 200}
    settings.update(overrides)
    agent = Agent(tmp_path, lock_config(port, **settings))
    agents.append(agent)
    return agent


def _errors(agent: Agent) -> list[str]:
    return [e["data"]["error"] for e in agent.drain() if e.get("ev") == "net" and "error" in e["data"]]


BAD_SCRIPTS = [
    ("garbage_instead_of_connack", _bad("garbage_instead_of_connack", b"", connack=b"\xff\x00garbage")),
    ("connack_wrong_length", _bad("connack_wrong_length", b"", connack=b"\x20\x03\x00\x00\x00")),
    ("five_byte_length", _bad("five_byte_length", b"\x30\xff\xff\xff\xff\x01")),
    ("connect_from_broker", _bad("connect_from_broker", b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00")),
    ("pubrel", _bad("pubrel", b"\x62\x02\x00\x01")),
    ("publish_qos2", _bad("publish_qos2", publish_packet(DOWN, b"x", qos=2))),
    ("topic_longer_than_packet", _bad("topic_longer_than_packet", b"\x32\x04\xff\xff\x00\x01")),
    ("puback_wrong_length", _bad("puback_wrong_length", b"\x40\x03\x00\x01\x00")),
]


def test_malformed_packets_drop_the_connection_and_the_client_recovers(tmp_path: Path,
                                                                       agents: list[Agent]) -> None:
    good = _serve_well(greeting=publish_packet(DOWN, b"after-garbage", pid=7))
    broker = FakeBroker([script for _, script in BAD_SCRIPTS] + [good])
    try:
        agent = _agent(tmp_path, agents, broker.port)
        agent.wait_ev("msg", payload="after-garbage", timeout=20)
        assert agent.alive()
        closed = {entry[0] for entry in broker.log if entry[1:] == ("closed_by_lock",)}
        assert closed == {name for name, _ in BAD_SCRIPTS}
        assert _errors(agent).count("malformed") == len(BAD_SCRIPTS)
        wait_until(lambda: ("puback", 7) in broker.log)  # acknowledged once the handler returned
    finally:
        broker.close()


def test_a_hang_up_inside_a_huge_packet_is_a_lost_connection(tmp_path: Path, agents: list[Agent]) -> None:
    def huge_then_hang_up(conn: socket.socket, log: list) -> None:
        read_packet(conn)
        # Remaining length 268,435,455 (the most four bytes can say): skipped chunk by chunk, never buffered.
        conn.sendall(CONNACK_OK + b"\x30\xff\xff\xff\x7f" + b"\x00\x05hello" + b"z" * 20000)
        log.append(("huge", "sent"))

    broker = FakeBroker([huge_then_hang_up, _serve_well(greeting=publish_packet(DOWN, b"fine", pid=3))])
    try:
        agent = _agent(tmp_path, agents, broker.port)
        agent.wait_ev("msg", payload="fine", timeout=15)
        assert "connection_lost" in _errors(agent)
    finally:
        broker.close()


def test_a_silent_broker_is_detected_by_keepalive(tmp_path: Path, agents: list[Agent]) -> None:
    def silent(conn: socket.socket, log: list) -> None:
        read_packet(conn)
        conn.sendall(CONNACK_OK)
        while True:  # reads (PUBLISH, SUBSCRIBE, PINGREQ) and never answers
            log.append(("silent", read_packet(conn).type))

    broker = FakeBroker([silent, _serve_well()])
    try:
        agent = _agent(tmp_path, agents, broker.port, keepalive_s=2)
        agent.wait_for(lambda e: e.get("ev") == "net" and e["data"].get("error") in ("keepalive_timeout",
                                                                                     "subscribe_timeout"),
                       timeout=15)
        agent.wait_ev("up", timeout=10)  # the second connection behaves
        assert ("silent", 12) in broker.log or "subscribe_timeout" in _errors(agent)
    finally:
        broker.close()


def test_unacknowledged_qos1_is_sent_again_with_dup_after_reconnect(tmp_path: Path,
                                                                     agents: list[Agent]) -> None:
    def drop_first_up(conn: socket.socket, log: list, packet: object) -> bool:
        if packet.topic != UP:
            return True
        log.append(("first", packet))
        conn.shutdown(socket.SHUT_RDWR)  # no PUBACK: the connection dies with the message in flight
        raise ConnectionError("dropped on purpose")

    def ack_all(conn: socket.socket, log: list, packet: object) -> bool:
        if packet.topic == UP:
            log.append(("second", packet))
        return True

    broker = FakeBroker([_serve_well(drop_first_up), _serve_well(ack_all)])
    try:
        agent = _agent(tmp_path, agents, broker.port)
        agent.wait_ev("up")
        agent.send(cmd="publish", topic=UP, payload="event-batch-1", qos=1)
        agent.send(cmd="flush", timeout_ms=8000)
        assert agent.wait_ev("flushed", timeout=10)["ok"] is True
        first = [entry[1] for entry in broker.log if entry[0] == "first"]
        second = [entry[1] for entry in broker.log if entry[0] == "second"]
        assert len(first) == 1 and len(second) == 1
        assert first[0].flags & 0x08 == 0 and second[0].flags & 0x08 == 0x08  # DUP only on the resend
        assert (second[0].pid, second[0].payload) == (first[0].pid, b"event-batch-1")
        agent.send(cmd="status")
        assert agent.wait_ev("status")["data"]["resent"] == 1
    finally:
        broker.close()


@pytest.mark.parametrize(("return_code", "error"), [
    (1, "unacceptable_protocol"), (2, "identifier_rejected"), (3, "server_unavailable"),
    (4, "bad_credentials"), (5, "not_authorised"), (6, "connack_refused"),
])
def test_each_connack_refusal_has_its_own_error(tmp_path: Path, agents: list[Agent], return_code: int,
                                                error: str) -> None:
    broker = FakeBroker([_bad("refuse", b"", connack=bytes([0x20, 0x02, 0x00, return_code]))])
    try:
        agent = _agent(tmp_path, agents, broker.port)
        event = agent.wait_for(lambda e: e.get("ev") == "net" and "error" in e["data"])
        assert event["data"]["error"] == error
        assert f"CONNACK {return_code}" in event["data"]["detail"] or "code 6" in event["data"]["detail"]
    finally:
        broker.close()
