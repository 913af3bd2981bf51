"""The broker's name looked up by the lock (firmware/net/dns.py) on the real MicroPython, against a small DNS
server in CPython: the answer is used and cached, the event loop keeps running during a slow answer, and
hostile or negative answers end in a clear dns_failed error while the lock keeps trying."""

import json
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.fwnet.netkit import MICROPYTHON, ROOT, Agent, Mosquitto, lock_config

pytestmark = pytest.mark.slow


class FakeDNS:
    """UDP DNS server on 127.0.0.1: answers A queries for `names` (name -> IPv4); others get NXDOMAIN.
    Before answering it sleeps `delay` and sends every datagram in `noise` (garbage, wrong ids)."""

    def __init__(self, names: dict[str, str], delay: float = 0.0, noise: tuple[bytes, ...] = ()) -> None:
        self.names, self.delay, self.noise = names, delay, noise
        self.queries: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                query, peer = self.sock.recvfrom(512)
            except OSError:
                return
            name, end = self._name(query)
            self.queries.append(name)
            time.sleep(self.delay)
            for datagram in self.noise:
                self.sock.sendto(datagram, peer)
            self.sock.sendto(self._answer(query, end, self.names.get(name)), peer)

    @staticmethod
    def _name(query: bytes) -> tuple[str, int]:
        labels, at = [], 12
        while query[at]:
            labels.append(query[at + 1 : at + 1 + query[at]].decode())
            at += 1 + query[at]
        return ".".join(labels), at + 5

    @staticmethod
    def _answer(query: bytes, end: int, address: str | None) -> bytes:
        flags = 0x8180 if address else 0x8183  # response, RD, RA; rcode 0 or 3 (no such name)
        header = query[:2] + struct.pack(">HHHHH", flags, 1, 1 if address else 0, 0, 0)
        body = query[12:end]
        if address:
            body += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + socket.inet_aton(address)
        return header + body

    def close(self) -> None:
        self.sock.close()


def _ticker(port: int, name: str) -> dict:
    proc = subprocess.run([str(MICROPYTHON), "-X", "heapsize=160K", "tests/fwnet/mp_dns_ticker.py", str(port),
                           name], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_slow_answer_does_not_stop_the_loop_and_is_cached() -> None:
    dns = FakeDNS({"broker.test": "10.1.2.3"}, delay=0.5)
    try:
        result = _ticker(dns.port, "broker.test")
    finally:
        dns.close()
    assert result["address"] == "10.1.2.3" and result["cached"] == "10.1.2.3"
    assert dns.queries == ["broker.test"]  # the second resolve came from the cache
    assert result["ticks"] >= 10  # the ticker ran while the lookup waited (a blocking lookup: 0)


def test_garbage_and_answers_to_other_queries_are_ignored() -> None:
    wrong_id = b"\x00\x00\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"  # an answer to query id 0: not ours
    dns = FakeDNS({"broker.test": "10.9.8.7"}, noise=(b"\xff" * 3, wrong_id, b"\x00" * 40))
    try:
        result = _ticker(dns.port, "broker.test")
    finally:
        dns.close()
    assert result.get("address") == "10.9.8.7", result


def test_no_such_name_is_a_clear_error() -> None:
    dns = FakeDNS({})
    try:
        result = _ticker(dns.port, "nowhere.test")
    finally:
        dns.close()
    assert result["code"] == "dns_failed" and "no such name" in result["error"]
    assert dns.queries == ["nowhere.test"]  # a final answer: not asked again


def test_a_silent_server_times_out() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        result = _ticker(silent.getsockname()[1], "broker.test")
    finally:
        silent.close()
    assert result["code"] == "dns_failed" and "no answer" in result["error"]


def test_the_link_connects_to_a_broker_found_by_name(tmp_path: Path, broker: Mosquitto,
                                                    agents: list[Agent]) -> None:
    dns = FakeDNS({"broker.test": "127.0.0.1"})
    try:
        agent = Agent(tmp_path, lock_config(broker.port, broker_host="broker.test",
                                            dns_server=f"127.0.0.1:{dns.port}"))
        agents.append(agent)
        agent.wait_ev("up")
    finally:
        dns.close()
    assert dns.queries == ["broker.test"]


def test_the_link_reports_a_failed_lookup_and_keeps_trying(tmp_path: Path, agents: list[Agent]) -> None:
    dns = FakeDNS({})
    try:
        config = lock_config(1883, broker_host="missing.test", dns_server=f"127.0.0.1:{dns.port}")
        agent = Agent(tmp_path, config)
        agents.append(agent)
        event = agent.wait_for(lambda e: e.get("ev") == "net" and "error" in e["data"])
        assert event["data"]["error"] == "dns_failed" and "missing.test" in event["data"]["detail"]
        agent.wait_for(lambda e: e.get("ev") == "net" and e["data"].get("error") == "dns_failed")
    finally:
        dns.close()
    assert len(dns.queries) >= 2
