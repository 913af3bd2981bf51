# The simulator's control channel: JSON lines over TCP on 127.0.0.1 (protocol: docs/SIMULATOR.md).
#
# Clients send commands (tap a card, open the door, press the exit button, jam the thumb-turn, set the
# clock); every report (the core's, and the simulated devices') is broadcast to every client as one JSON
# object per line. Nothing a client sends can stop the lock: every bad line gets an error line.
import asyncio
import json

from shared_schema.credentials import KINDS, parse_identifier

MAX_LINE_BYTES = 1024  # a command line longer than this is refused (and the connection kept)
MAX_CLIENTS = 8
CLIENT_QUEUE_LINES = 256  # per-client backlog; beyond it the oldest lines are dropped and counted
HISTORY_LINES = 64  # the last reports, for clients that connect late (the "history" command)
MAX_PRESS_MS = 10000  # the longest exit-button press the `exit` command simulates
MAX_UNIX = 4102444800  # 2100-01-01: later than any real clock, small enough for every integer type
_UID_LENGTHS = {"felica": (8,), "iso14443a": (4, 7, 10), "phone": (16,)}


class CommandError(ValueError):
    """A control command we refuse; str(error) is the error code sent back to the client."""

    def __init__(self, code, detail=""):
        super().__init__(code)
        self.code = code
        self.detail = detail


class _Client:
    def __init__(self, writer):
        self.writer = writer
        self.lines = []
        self.dropped = 0
        self.wake = asyncio.Event()
        self.closed = False

    def push(self, line):
        if self.closed:
            return
        if len(self.lines) >= CLIENT_QUEUE_LINES:
            self.lines.pop(0)
            self.dropped += 1
        self.lines.append(line)
        self.wake.set()


def _dumps(obj):
    return (json.dumps(obj) + "\n").encode()


class ControlChannel:
    """Serves the clients of one simulated board `hw` (whose devices the commands act on)."""

    def __init__(self, hw, host, port):
        self.hw = hw
        self.host = host
        self.port = port
        self._clients = []
        self._history = []
        self._server = None

    async def start(self):
        if self._server is not None:  # already running
            return
        try:
            self._server = await asyncio.start_server(self._serve_client, self.host, self.port)
        except OSError as exc:
            raise OSError("sim control channel: cannot listen on %s:%d (%s; another lock on that port?)"
                          % (self.host, self.port, exc))
        print("sim: control channel on %s:%d" % (self.host, self.port))

    def broadcast(self, kind, fields):
        try:
            line = _dumps({"report": kind, "data": fields})
        except (TypeError, ValueError):
            line = _dumps({"report": kind, "data": {"unserialisable": repr(fields)[:200]}})
        # Kept for the "history" command: reports made before anyone connected (the boot event) stay visible.
        if len(self._history) >= HISTORY_LINES:
            self._history.pop(0)
        self._history.append(line)
        for client in self._clients:
            client.push(line)

    # --- one connection ---

    async def _serve_client(self, reader, writer):
        if len(self._clients) >= MAX_CLIENTS:
            writer.write(_dumps({"error": "too_many_clients"}))
            await _close(writer)
            return
        client = _Client(writer)
        self._clients.append(client)
        client.push(_dumps({"report": "hello", "data": self.hw.status()}))
        sender = asyncio.create_task(self._send_loop(client))
        try:
            await self._read_loop(reader, client)
        except Exception:  # noqa: BLE001 - a broken client must never take the lock down
            pass
        client.closed = True
        client.wake.set()
        if client in self._clients:
            self._clients.remove(client)
        try:
            await sender
        except Exception:  # noqa: BLE001
            pass
        await _close(writer)

    async def _send_loop(self, client):
        while not client.closed:
            await client.wake.wait()
            client.wake.clear()
            while client.lines and not client.closed:
                client.writer.write(client.lines.pop(0))
                try:
                    await client.writer.drain()
                except OSError:
                    client.closed = True

    async def _read_loop(self, reader, client):
        pending = b""
        overflow = False  # inside a line that was too long: skip to its end
        while not client.closed:
            chunk = await reader.read(256)
            if not chunk:
                return
            pending += chunk
            while True:
                end = pending.find(b"\n")
                if end < 0:
                    break
                line, pending = pending[:end], pending[end + 1 :]
                if overflow:
                    overflow = False
                    continue
                client.push(_dumps(self.handle_line(line)))
            if len(pending) > MAX_LINE_BYTES:
                if not overflow:
                    client.push(_dumps({"error": "line_too_long", "detail": "max %d bytes" % MAX_LINE_BYTES}))
                overflow = True
                pending = b""

    # --- commands ---

    def handle_line(self, line):
        """One command line -> the reply object (never raises)."""
        line = line.strip()
        if not line:
            return {"error": "empty_line"}
        try:
            command = json.loads(line)
        except ValueError:
            return {"error": "bad_json", "detail": "each line must be one JSON object"}
        if not isinstance(command, dict):
            return {"error": "not_an_object"}
        name = command.get("cmd")
        reply = {"reply": name}
        if "id" in command:
            reply["id"] = command["id"]
        handler = _COMMANDS.get(name) if isinstance(name, str) else None
        if handler is None:
            reply = {"error": "unknown_command", "detail": "commands: " + ", ".join(sorted(_COMMANDS))}
            if "id" in command:
                reply["id"] = command["id"]
            return reply
        try:
            extra = handler(self.hw, command)
        except CommandError as exc:
            reply = {"error": exc.code, "cmd": name}
            if exc.detail:
                reply["detail"] = exc.detail
            if "id" in command:
                reply["id"] = command["id"]
            return reply
        except Exception as exc:  # noqa: BLE001 - a bug in a command must not cost the client its channel
            return {"error": "command_failed", "cmd": name, "detail": type(exc).__name__}
        reply["ok"] = True
        if extra:
            reply.update(extra)
        return reply


def _cmd_tap(hw, command):
    kind = command.get("kind", "iso14443a")
    if kind not in KINDS:
        raise CommandError("bad_kind", "kind: " + ", ".join(KINDS))
    try:
        uid = parse_identifier(command.get("uid"))
    except ValueError:
        raise CommandError("bad_uid", "uid: hex text") from None
    if len(uid) not in _UID_LENGTHS[kind]:
        raise CommandError("bad_uid_length", "%s: %s bytes" % (kind, _UID_LENGTHS[kind]))
    if not hw.reader.tap(kind, uid):
        raise CommandError("reader_busy", "too many taps waiting")
    return None


def _flag(command, key):
    value = command.get(key)
    if not isinstance(value, bool):
        raise CommandError("bad_field", key + ": true or false")
    return value


def _cmd_door(hw, command):
    if hw.door is None:
        raise CommandError("not_fitted", "no door sensor in this configuration")
    hw.door.set_open(_flag(command, "open"))
    hw.broadcast("door_sensor", {"open": hw.door.open})


def _cmd_exit(hw, command):
    if hw.exit_button is None:
        raise CommandError("not_fitted", "no exit button in this configuration")
    hold_ms = command.get("ms")
    if hold_ms is not None and (isinstance(hold_ms, bool) or not isinstance(hold_ms, int)
                                or not 1 <= hold_ms <= MAX_PRESS_MS):
        raise CommandError("bad_field", "ms: how long the button is held, 1 to %d" % MAX_PRESS_MS)
    hw.exit_button.press(hold_ms)


def _cmd_jam(hw, command):
    hw.actuator.jammed = _flag(command, "on")


def _cmd_set_time(hw, command):
    unix = command.get("unix")
    if isinstance(unix, bool) or not isinstance(unix, int) or not 0 <= unix <= MAX_UNIX:
        raise CommandError("bad_field", "unix: integer seconds from 0 to %d" % MAX_UNIX)
    hw.rtc.set(unix)
    return {"time": unix}


def _phone(hw):
    if hw.phone is None or hw.phone.exchange is None:
        raise CommandError("not_fitted", "no phone transport (sim_phone false, or no device_id)")
    return hw.phone.exchange


def _cmd_phone_hello(hw, command):
    device_id, challenge = _phone(hw).hello()
    return {"device_id": device_id, "challenge": challenge}


_PARTS = ("S", "F", "M", "L")  # shared_schema.mobilekeys.PARTS


def _cmd_phone_answer(hw, command):
    exchange = _phone(hw)
    part = command.get("part", "S")
    data = command.get("data")
    if part not in _PARTS:
        raise CommandError("bad_field", "part: S (whole), F (first), M (middle) or L (last)")
    if not isinstance(data, str):
        raise CommandError("bad_field", "data: the presentation (or a part of it) as text")
    try:
        raw = data.encode()
    except UnicodeError:
        raise CommandError("bad_field", "data: text") from None
    error = exchange.feed(part, raw)
    if error:
        raise CommandError(error, "the lock is still deciding the last one" if error == "busy" else part)
    return None


def _cmd_status(hw, command):
    return {"status": hw.status()}


def _cmd_ping(hw, command):
    return None


def _cmd_history(hw, command):
    return {"reports": [json.loads(line) for line in hw.channel._history]}


_COMMANDS = {
    "tap": _cmd_tap,
    "door": _cmd_door,
    "exit": _cmd_exit,
    "jam": _cmd_jam,
    "set_time": _cmd_set_time,
    "status": _cmd_status,
    "ping": _cmd_ping,
    "history": _cmd_history,
    "phone_hello": _cmd_phone_hello,
    "phone_answer": _cmd_phone_answer,
}


async def _close(writer):
    try:
        writer.close()
        await writer.wait_closed()
    except Exception:  # noqa: BLE001 - already gone
        pass
