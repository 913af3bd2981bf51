"""A phone with a mobile key, played against a simulated lock's control channel (docs/PROTOCOL.md "Mobile
keys", docs/SIMULATOR.md): `phone_hello` for the challenge, the presentation in parts of at most --mtu bytes
(as BLE writes carry it), then the lock's answer.

    .venv/bin/python -m tools phone --key key.json tap --door sim-lock-1

Exit status: 0 the door opened, 1 the lock refused (the reason is printed), 2 no lock or a bad key file.
"""

import argparse
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from shared_schema import mobilekeyfile
from shared_schema.mobilekeys import PART_FIRST, PART_LAST, PART_MIDDLE, PART_SINGLE

DEFAULT_PORT = 7700
DEFAULT_MTU = 180  # a BLE write after the usual MTU exchange (247 - ATT header); 20 without one


class PhoneError(Exception):
    """The exchange could not be played (exit status 2); str(error) says why."""


class Channel:
    """The control channel of one simulated lock: JSON lines both ways."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout_s)
        except OSError as exc:
            raise PhoneError(f"no simulated lock at {host}:{port} ({exc})") from None
        self.stream = self.sock.makefile("rwb")
        self.timeout_s = timeout_s

    def send(self, command: dict[str, Any]) -> None:
        self.stream.write(json.dumps(command).encode() + b"\n")
        self.stream.flush()

    def next_line(self, deadline: float) -> dict[str, Any]:
        self.sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            line = self.stream.readline()
        except TimeoutError:
            raise PhoneError("the lock did not answer in time") from None
        if not line:
            raise PhoneError("the lock closed the control channel")
        return json.loads(line)

    def call(self, command: dict[str, Any]) -> dict[str, Any]:
        """Send a command and return its reply (reports that arrive meanwhile are skipped)."""
        self.send(command)
        deadline = time.monotonic() + self.timeout_s
        while True:
            obj = self.next_line(deadline)
            if obj.get("reply") == command["cmd"] or obj.get("cmd") == command["cmd"]:
                return obj

    def wait_report(self, kind: str, deadline: float) -> dict[str, Any]:
        while True:
            obj = self.next_line(deadline)
            if obj.get("report") == kind:
                return obj.get("data") or {}

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


def parts(data: bytes, mtu: int) -> list[tuple[str, bytes]]:
    """The presentation as BLE writes: (part letter, bytes) of at most mtu - 1 bytes of data each."""
    size = max(1, mtu - 1)  # one byte of each write says which part it is
    pieces = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    if len(pieces) == 1:
        return [(PART_SINGLE, pieces[0])]
    letters = [PART_FIRST] + [PART_MIDDLE] * (len(pieces) - 2) + [PART_LAST]
    return list(zip(letters, pieces, strict=True))


def load_key(path: Path) -> dict[str, Any]:
    try:
        keyfile = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PhoneError(f"cannot read the key file {path}: {exc}") from None
    if not isinstance(keyfile, dict) or keyfile.get("format") != mobilekeyfile.FORMAT:
        raise PhoneError(f"{path} is not a mobile key file (format {mobilekeyfile.FORMAT!r})")
    return keyfile


def tap(channel: Channel, keyfile: dict[str, Any], door: str, ticket_door: str | None, mtu: int,
        out: TextIO) -> int:
    """One exchange at the lock `door` (its device id); 0 opened, 1 refused."""
    hello = channel.call({"cmd": "phone_hello"})
    if "error" in hello:
        raise PhoneError(f"the lock has no phone transport: {hello['error']} ({hello.get('detail', '')})")
    if hello["device_id"] != door:
        raise PhoneError(f"the lock on this channel is {hello['device_id']!r}, not {door!r}")
    ticket = mobilekeyfile.ticket_for(keyfile, ticket_door or door)
    if ticket is None:
        raise PhoneError(f"the key has no ticket for {ticket_door or door!r} (it covers: "
                         + ", ".join(t["device_id"] for t in keyfile.get("locks", [])) + ")")
    try:
        data = mobilekeyfile.presentation(keyfile, ticket, door, hello["challenge"])
    except mobilekeyfile.KeyFileError as exc:
        raise PhoneError(str(exc)) from None
    for part, piece in parts(data, mtu):
        reply = channel.call({"cmd": "phone_answer", "part": part, "data": piece.decode("ascii")})
        if "error" in reply:
            print(f"refused: {reply['error']} ({reply.get('detail', '')})", file=out)
            return 1
    result = channel.wait_report("phone", time.monotonic() + channel.timeout_s)["result"]
    print("granted" if result == "ok" else f"refused: {result}", file=out)
    return 0 if result == "ok" else 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key", type=Path, required=True, help="the key file (POST .../mobile-keys answer)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the lock's control channel port")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each answer")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    tap_parser = sub.add_parser("tap", help="open the door: answer the lock's challenge with the key")
    tap_parser.add_argument("--door", required=True, help="the door's device id (which ticket to use)")
    tap_parser.add_argument("--mtu", type=int, default=DEFAULT_MTU, help="bytes per write, as over BLE")
    tap_parser.add_argument("--ticket", help="present another door's ticket (to see the lock refuse it)")


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    try:
        keyfile = load_key(args.key)
        channel = Channel(args.host, args.port, args.timeout)
        try:
            return tap(channel, keyfile, args.door, args.ticket, args.mtu, out)
        finally:
            channel.close()
    except PhoneError as exc:
        print(f"phone: {exc}", file=sys.stderr)
        return 2
