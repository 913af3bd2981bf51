"""Real components for the network tests: Mosquitto on a free loopback port (config written per test),
the lock's network side on the real MicroPython interpreter (tests/fwnet/mp_lock_agent.py), and a paho-mqtt
client on CPython playing the cloud. Fixtures around them are in conftest.py."""

import json
import os
import queue
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho

ROOT = Path(__file__).resolve().parents[2]
MICROPYTHON = Path(sys.executable).parent / "micropython"
AGENT = "tests/fwnet/mp_lock_agent.py"
DEVICE = "lock-t1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


class Mosquitto:
    """mosquitto -c <file> on 127.0.0.1:<port>; extra config lines per test (passwords, ACLs, TLS...)."""

    def __init__(self, directory: Path, extra: str = "", port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.conf = directory / f"mosquitto-{self.port}.conf"
        self.log = directory / f"mosquitto-{self.port}.log"
        # `user root`: started as root, Mosquitto would switch to the user `mosquitto`, who cannot read the
        # key files the test just wrote. Ignored when not started as root.
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nuser root\nset_tcp_nodelay true\nmax_queued_messages 10000\n"
            f"log_dest file {self.log}\nlog_type all\n{extra}\n"
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Mosquitto":
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # persistence (if configured) is written on SIGTERM
            self.proc.wait(timeout=10)
        self.proc = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Agent:
    """The lock's Link on MicroPython; events are the JSON lines it prints."""

    def __init__(self, directory: Path, config: dict, heapsize: str = "128K", with_core: bool = False,
                 code: Path | None = None) -> None:
        self.config_path = directory / f"agent-{time.monotonic_ns()}.json"
        self.config_path.write_text(json.dumps(config))
        self.proc = subprocess.Popen(
            [str(MICROPYTHON), "-X", f"heapsize={heapsize}", AGENT, str(self.config_path),
             *(["--with-core"] if with_core else []), *(["--code", str(code)] if code else [])], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.events: list[dict] = []
        self._queue: queue.Queue = queue.Queue()
        self._stderr: list[bytes] = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr or []), daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self._queue.put(json.loads(line))
            except ValueError:
                self._queue.put({"ev": "raw", "line": line.decode(errors="replace")})
        self._queue.put({"ev": "exit"})

    def send(self, **command: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command).encode() + b"\n")
        self.proc.stdin.flush()

    def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.events.append(event)
            if predicate(event):
                return event
            if event.get("ev") == "exit":
                break
        raise AssertionError(f"not seen within {timeout}s; last events {self.events[-12:]}; "
                             f"stderr {b''.join(self._stderr)[-2000:]!r}")

    def assert_none_within(self, predicate: Callable[[dict], bool], seconds: float) -> None:
        """No event matching predicate arrives for `seconds` (the others are kept in self.events)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self._queue.get(timeout=left)
            except queue.Empty:
                return
            self.events.append(event)
            assert not predicate(event), f"unexpected {event}; events {self.events[-12:]}"

    def wait_ev(self, ev: str, timeout: float = 10.0, **fields: object) -> dict:
        return self.wait_for(lambda e: e.get("ev") == ev and all(e.get(k) == v for k, v in fields.items()),
                             timeout)

    def wait_net(self, state: str, timeout: float = 10.0) -> dict:
        return self.wait_for(lambda e: e.get("ev") == "net" and e["data"].get("state") == state, timeout)

    def drain(self) -> list[dict]:
        """Events already printed, without waiting."""
        while True:
            try:
                self.events.append(self._queue.get_nowait())
            except queue.Empty:
                return self.events

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.send(cmd="stop")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Peer:
    """paho-mqtt on CPython: the cloud's side of the broker. Messages arrive in `messages` (topic, bytes)."""

    def __init__(self, port: int, client_id: str | None = None, clean_session: bool = True,
                 user: str | None = None, password: str | None = None, tls_ca: Path | None = None) -> None:
        self.messages: queue.Queue = queue.Queue()
        client_id = client_id or f"peer-{os.getpid()}-{time.monotonic_ns()}"
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=clean_session)
        if user is not None:
            self.client.username_pw_set(user, password)
        if tls_ca is not None:
            self.client.tls_set(ca_certs=str(tls_ca))
        self.client.on_message = lambda _c, _u, msg: self.messages.put((msg.topic, msg.payload, msg.retain))
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()

    def subscribe(self, topic: str, qos: int = 1) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_args: done.set()
        self.client.subscribe(topic, qos)
        assert done.wait(5), "no SUBACK for the peer"

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(5)

    def take(self, timeout: float = 5.0) -> tuple[str, bytes, bool]:
        return self.messages.get(timeout=timeout)

    def take_all(self, quiet: float = 1.0) -> list[tuple[str, bytes, bool]]:
        """Everything that arrives until nothing has come for `quiet` seconds."""
        got = []
        while True:
            try:
                got.append(self.messages.get(timeout=quiet))
            except queue.Empty:
                return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_ca(directory: Path, name: str) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=directory)
    _openssl("req", "-x509", "-new", "-key", f"{name}.key", "-sha256", "-days", "2", "-subj", f"/CN={name}",
             "-out", f"{name}.pem", cwd=directory)
    _openssl("x509", "-in", f"{name}.pem", "-outform", "DER", "-out", f"{name}.der", cwd=directory)


def make_pki(directory: Path) -> Path:
    """P-256 keys made by openssl now: ca.{pem,der} signs server.pem (CN and SAN localhost, 127.0.0.1);
    rogue-ca.{pem,der} signs nothing of ours."""
    _make_ca(directory, "ca")
    _make_ca(directory, "rogue-ca")
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key", cwd=directory)
    _openssl("req", "-new", "-key", "server.key", "-subj", "/CN=localhost", "-out", "server.csr",
             cwd=directory)
    (directory / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-sha256", "-extfile", "san.cnf", "-out", "server.pem", cwd=directory)
    return directory


def tls_listener(pki: Path) -> str:
    """Mosquitto listener options for TLS with the server certificate of make_pki()."""
    return f"cafile {pki / 'ca.pem'}\ncertfile {pki / 'server.pem'}\nkeyfile {pki / 'server.key'}\n"


def lock_config(port: int, **overrides: object) -> dict:
    config = {"device_id": DEVICE, "broker_host": "127.0.0.1", "broker_port": port, "keepalive_s": 30,
              "broker_backoff_min_ms": 200, "broker_backoff_max_ms": 1000, "broker_clean_session": True}
    config.update(overrides)
    return config


class Packet:
    """One MQTT packet as a fake broker read it."""

    def __init__(self, first: int, body: bytes) -> None:
        self.type, self.flags, self.body = first >> 4, first & 0x0F, body

    @property
    def pid(self) -> int:  # PUBLISH QoS 1, SUBSCRIBE, PUBACK
        if self.type == 3:
            topic_len = int.from_bytes(self.body[:2], "big")
            return int.from_bytes(self.body[2 + topic_len : 4 + topic_len], "big")
        return int.from_bytes(self.body[:2], "big")

    @property
    def topic(self) -> str:
        return self.body[2 : 2 + int.from_bytes(self.body[:2], "big")].decode()

    @property
    def payload(self) -> bytes:
        start = 2 + int.from_bytes(self.body[:2], "big") + (2 if self.flags & 0x06 else 0)
        return self.body[start:]


def read_packet(conn: socket.socket) -> Packet:
    """Read one packet from the lock (raises ConnectionError when it closed)."""

    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    first = exactly(1)[0]
    length, shift = 0, 0
    while True:
        byte = exactly(1)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return Packet(first, exactly(length))


def publish_packet(topic: str, payload: bytes, qos: int = 1, pid: int = 1) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic.encode() + (pid.to_bytes(2, "big") if qos else b"") + payload
    return bytes([0x30 | qos << 1]) + remaining_length(len(body)) + body


def remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


CONNACK_OK = b"\x20\x02\x00\x00"


class FakeBroker:
    """A TCP server on a free port that runs scripts[i](conn, log) for its i-th connection (the last
    script for every later one). A script plays a broker, well or badly; log collects what it saw."""

    def __init__(self, scripts: list[Callable[[socket.socket, list], None]]) -> None:
        self.scripts = scripts
        self.connections = 0
        self.log: list = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            script = self.scripts[min(self.connections, len(self.scripts) - 1)]
            self.connections += 1
            threading.Thread(target=self._run, args=(script, conn), daemon=True).start()

    def _run(self, script: Callable[[socket.socket, list], None], conn: socket.socket) -> None:
        conn.settimeout(10)
        with conn:
            try:
                script(conn, self.log)
            except (ConnectionError, TimeoutError, OSError) as exc:
                self.log.append(("script_ended", repr(exc)))

    def close(self) -> None:
        self._closed = True
        self.server.close()


def compile_code(target: Path) -> Path:
    """firmware/core, firmware/net and shared_schema compiled by mpy-cross into target, laid out as on a
    lock's flash (core/, net/, shared_schema/ at the top)."""
    for base, package in ((ROOT / "firmware", "core"), (ROOT / "firmware", "net"), (ROOT, "shared_schema")):
        for path in sorted((base / package).glob("*.py")):
            out = target / path.relative_to(base).with_suffix(".mpy")
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([str(MICROPYTHON.parent / "mpy-cross"), "-o", str(out), str(path)], check=True)
    return target


def _line(proc: subprocess.Popen, timeout: float) -> str:
    """The next line the process prints, or what it printed so far when none comes in time."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if ready:
        return proc.stdout.readline()
    proc.kill()
    return f"nothing within {timeout}s; output: " + proc.stdout.read()


def run_burst(directory: Path, port: int, count: int, code: Path, heapsize: str = "128K",
              pki: Path | None = None, size: int = 4096, micropython: Path = MICROPYTHON) -> dict:
    """tests/fwnet/mp_heap_burst.py (core.app imported too, as on the board) receives `count` QoS 1 messages
    of `size` bytes published at once. Returns its figures: free heap after import, after connect and the
    least seen during the burst (gc.collect() every 10 messages), messages handled, the OR of their sizes,
    the link's status at the end; and the burst's wall time."""
    config: dict[str, object] = lock_config(port)
    if pki is not None:
        config.update(broker_tls=True, broker_ca=str(pki / "ca.der"), broker_hostname="localhost")
    config_path = directory / f"burst-{time.monotonic_ns()}.json"
    config_path.write_text(json.dumps(config))
    proc = subprocess.Popen([str(micropython), "-X", f"heapsize={heapsize}", "tests/fwnet/mp_heap_burst.py",
                             str(code), str(config_path), str(count)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    peer = None
    try:
        ready = _line(proc, 30)
        assert '"ready"' in ready, ready
        peer = Peer(port, tls_ca=None if pki is None else pki / "ca.pem")
        started = time.monotonic()
        for i in range(count):
            peer.client.publish(f"locks/{DEVICE}/down", b"%06d" % i + b"m" * (size - 6), qos=1)
        done = _line(proc, 120)
        seconds = time.monotonic() - started
        assert '"done"' in done, done
        proc.wait(timeout=10)
        return {**json.loads(done)["figures"], "seconds": seconds, "exit": proc.returncode}
    finally:
        if peer is not None:
            peer.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
