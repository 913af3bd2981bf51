"""A virtual door for a running simulated lock: tap a card, open/close the door, press the exit button,
jam the thumb-turn, set the clock, and print what the lock reports (docs/SIMULATOR.md).

    .venv/bin/python -m tools.virtual_door tap 04a1b2c3d4e5f6
    .venv/bin/python -m tools.virtual_door tap 012e4cd812345678 --kind felica --wait 8
    .venv/bin/python -m tools.virtual_door door open
    .venv/bin/python -m tools.virtual_door history     # what happened so far, the boot event included
    .venv/bin/python -m tools.virtual_door watch

Start the lock first (or `make run`):
    .venv/bin/micropython firmware/main.py --config firmware/sim_config.json
Exit status: 0 done, 1 the lock refused the command, 2 no lock listening.
"""

import argparse
import json
import os
import socket
import sys
import time
from typing import Any, TextIO

DEFAULT_PORT = 7700
KINDS = ("iso14443a", "felica", "phone")


def build_command(args: argparse.Namespace) -> dict[str, Any] | None:
    """The control-channel command for the parsed arguments; None for `watch` (listen only)."""
    name = args.command
    if name == "tap":
        return {"cmd": "tap", "kind": args.kind, "uid": args.uid}
    if name == "door":
        return {"cmd": "door", "open": args.state == "open"}
    if name == "exit":
        return {"cmd": "exit"} if args.ms is None else {"cmd": "exit", "ms": args.ms}
    if name == "jam":
        return {"cmd": "jam", "on": args.state == "on"}
    if name == "time":
        unix = int(time.time()) if args.unix == "now" else int(args.unix)
        return {"cmd": "set_time", "unix": unix}
    if name in ("status", "history"):
        return {"cmd": name}
    if name == "send":
        return json.loads(args.json_line)
    return None


def describe(obj: dict[str, Any]) -> str:
    """One human-readable line for one line from the lock."""
    if "error" in obj:
        detail = f" ({obj['detail']})" if obj.get("detail") else ""
        return f"refused: {obj['error']}{detail}"
    if "reply" in obj:
        if obj.get("reply") == "status":
            return "status: " + json.dumps(obj.get("status"), sort_keys=True)
        if obj.get("reply") == "history":
            return "\n".join(describe(report) for report in obj.get("reports", [])) or "(no reports yet)"
        return f"ok: {obj['reply']}"
    data = obj.get("data") or {}
    fields = " ".join(f"{key}={json.dumps(data[key])}" for key in sorted(data))
    return f"{obj.get('report', '?'):9} {fields}"


def run(host: str, port: int, command: dict[str, Any] | None, wait_s: float, raw: bool, out: TextIO) -> int:
    try:
        sock = socket.create_connection((host, port), timeout=3)
    except OSError as exc:
        print(f"no simulated lock at {host}:{port} ({exc}); start one with "
              "`.venv/bin/micropython firmware/main.py --config firmware/sim_config.json`", file=sys.stderr)
        return 2
    status = 0
    with sock, sock.makefile("rwb") as stream:
        if command is not None:
            stream.write(json.dumps(command).encode() + b"\n")
            stream.flush()
        deadline = None if wait_s <= 0 else time.monotonic() + wait_s
        while deadline is None or time.monotonic() < deadline:
            sock.settimeout(None if deadline is None else max(0.05, deadline - time.monotonic()))
            try:
                line = stream.readline()
            except TimeoutError:
                break
            if not line:
                print("the lock closed the connection", file=sys.stderr)
                break
            obj = json.loads(line)
            if obj.get("report") == "hello" and not raw:
                continue  # the greeting every client gets; `status` shows the same
            print(line.decode().rstrip() if raw else describe(obj), file=out, flush=True)
            if "error" in obj:
                status = 1
    return status


def _connection_options(target: argparse.ArgumentParser, defaults: bool) -> None:
    # Accepted before and after the command; the copies after it must not reset what came before.
    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    target.add_argument("--host", default=default("127.0.0.1"), help="control channel host (127.0.0.1)")
    target.add_argument("--port", type=int, default=default(DEFAULT_PORT),
                        help=f"control channel port ({DEFAULT_PORT})")
    target.add_argument("--wait", type=float, default=default(3.0),
                        help="seconds to keep printing what the lock reports after the command (3)")
    target.add_argument("--json", action="store_true", default=default(False),
                        help="print the raw JSON lines")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m tools.virtual_door", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    _connection_options(root, defaults=True)
    sub = root.add_subparsers(dest="command", required=True)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        parsed = sub.add_parser(name, help=text, description=text)
        _connection_options(parsed, defaults=False)
        return parsed

    tap = command("tap", "present a card or phone to the reader")
    tap.add_argument("uid", help="hex identifier: 4/7/10-byte UID, 8-byte FeliCa IDm, 16-byte phone token")
    tap.add_argument("--kind", choices=KINDS, default="iso14443a", help="credential kind (iso14443a)")
    door = command("door", "open or close the door (reed switch)")
    door.add_argument("state", choices=("open", "closed"))
    press = command("exit", "press the inside request-to-exit button")
    press.add_argument("--ms", type=int, default=None,
                       help="how long it is held (default: the lock's sim_exit_press_ms; shorter than the "
                            "debounce time is no press)")
    jam = command("jam", "jam or free the thumb-turn or a relay lock's contact (its end is never confirmed)")
    jam.add_argument("state", choices=("on", "off"))
    clock = command("time", "set the lock's clock")
    clock.add_argument("unix", help="Unix seconds UTC, or 'now'")
    command("status", "print the simulated hardware's state")
    command("history", "print the lock's last 64 reports (the boot event included)")
    command("watch", "print everything the lock reports until Ctrl-C")
    send = command("send", "send one raw JSON command line")
    send.add_argument("json_line", metavar="JSON", help='e.g. \'{"cmd": "ping"}\'')
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        command = build_command(args)
    except ValueError as exc:
        print(f"bad argument: {exc}", file=sys.stderr)
        return 2
    wait = 0.0 if args.command == "watch" else args.wait
    try:
        return run(args.host, args.port, command, wait, args.json, sys.stdout)
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # e.g. `... | head`: the reader went away, nothing left to do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
