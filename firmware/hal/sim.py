# Simulated hardware for the MicroPython unix port, driven over a local control channel.
#
# The control channel is JSON lines over TCP on 127.0.0.1 (docs/SIMULATOR.md): clients send commands
# (tap a card, open the door, press the exit button, jam the thumb-turn, set the clock) and receive every
# actuator move, LED/buzzer pattern and core report as one JSON object per line. Nothing here imports
# `machine`; the core cannot tell this Hardware object from the ESP32 one.
import asyncio
import json
import os
import time

from drivers.pn532 import PN532, CardPoller, UARTTransport

from hal.sim_pn532 import SimPN532Port
from shared_schema.credentials import KINDS, parse_identifier
from shared_schema.messages import BOOT_REASONS

MAX_LINE_BYTES = 1024  # a command line longer than this is refused (and the connection kept)
MAX_CLIENTS = 8
CLIENT_QUEUE_LINES = 256  # per-client backlog; beyond it the oldest lines are dropped and counted
TAP_QUEUE = 8
HISTORY_LINES = 64  # the last reports, for clients that connect late (the "history" command)
_HOUSEKEEPING_MS = 20
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_UID_LENGTHS = {"felica": (8,), "iso14443a": (4, 7, 10), "phone": (16,)}
PATTERNS = ("idle", "granted", "denied", "error", "offline", "held_open", "jammed", "boot")


class CommandError(ValueError):
    """A control command we refuse; str(error) is the error code sent back to the client."""

    def __init__(self, code, detail=""):
        super().__init__(code)
        self.code = code
        self.detail = detail


# --- simulated devices ---------------------------------------------------------------------------


class SimReader:
    """hw.reader: cards tapped over the control channel, handed to the core one per poll().

    With sim_reader "pn532" (the default) cards and FeliCa IDms go through a simulated PN532 chip and our
    real PN532 driver (drivers/pn532.py), exactly as on the board; phone tokens, which a PN532 never
    reads, and everything with sim_reader "direct" are queued and handed over as they are.
    """

    def __init__(self, hw, use_pn532):
        self._taps = []
        self.dropped = 0
        self.chip = None
        self.poller = None
        if use_pn532:
            self.chip = SimPN532Port()
            transport = UARTTransport(self.chip)
            chip = PN532(transport, ack_timeout_ms=5, response_timeout_ms=10)
            self.poller = CardPoller(chip, hw.ticks_ms, hw.ticks_diff, wake=transport.wake)

    def tap(self, kind, uid):
        if self.chip is not None and kind in ("iso14443a", "felica"):
            accepted = self.chip.tap(kind, uid)
        elif len(self._taps) < TAP_QUEUE:
            self._taps.append((kind, uid))
            accepted = True
        else:
            accepted = False
        if not accepted:
            self.dropped += 1
        return accepted

    def poll(self):
        if self.poller is not None:
            found = self.poller.poll()
            if found is not None:
                return found
        return self._taps.pop(0) if self._taps else None


class SimActuator:
    """hw.actuator: a servo that reaches its end position travel_ms after a move, unless jammed."""

    def __init__(self, hw, travel_ms, confirms):
        self._hw = hw
        self.travel_ms = travel_ms
        self.confirms = confirms  # False: like a servo without feedback switches (answers None)
        self.position = "lock"  # where the thumb-turn rests; None while it moves
        self.target = None
        self.jammed = False
        self.moves = 0
        self._moved_at = 0

    def move(self, position):
        if position not in ("lock", "unlock"):
            raise ValueError("position must be 'lock' or 'unlock'")
        self.target = position
        self.position = None
        self.moves += 1
        self._moved_at = self._hw.ticks_ms()
        self._hw.broadcast("actuator", {"move": position, "jammed": self.jammed})

    def _arrived(self):
        if self.target is None or self.jammed:
            return False
        return self._hw.ticks_diff(self._hw.ticks_ms(), self._moved_at) >= self.travel_ms

    def step(self):
        if self._arrived():
            self.position, self.target = self.target, None
            self._hw.broadcast("actuator", {"at": self.position})

    def position_confirmed(self, position):
        if not self.confirms:
            return None
        self.step()
        return self.position == position


class SimDoor:
    """hw.door: a reed switch the control channel opens and closes."""

    def __init__(self):
        self.open = False

    def is_open(self):
        return self.open


class SimButton:
    """hw.exit_button: a press latched by the control channel, taken once."""

    def __init__(self):
        self._pressed = False

    def press(self):
        self._pressed = True

    def take_press(self):
        pressed, self._pressed = self._pressed, False
        return pressed


class SimSignal:
    """hw.led / hw.buzzer: remembers and broadcasts the pattern."""

    def __init__(self, hw, name):
        self._hw = hw
        self._name = name
        self.pattern = None

    def show(self, pattern):
        self.pattern = pattern
        self._hw.broadcast(self._name, {"pattern": pattern})

    play = show


class SimWatchdog:
    """hw.watchdog: counts feeds; reports once if it would have reset a real board."""

    def __init__(self, hw, timeout_ms):
        self._hw = hw
        self.timeout_ms = timeout_ms
        self.started = False
        self.feeds = 0
        self.expired = False
        self._fed_at = 0

    def start(self):
        self.started = True
        self._fed_at = self._hw.ticks_ms()
        self._hw.broadcast("watchdog", {"started": True, "timeout_ms": self.timeout_ms})

    def feed(self):
        self.feeds += 1
        self._fed_at = self._hw.ticks_ms()
        self.expired = False

    def step(self):
        if not self.started or self.expired or self.timeout_ms <= 0:
            return
        if self._hw.ticks_diff(self._hw.ticks_ms(), self._fed_at) > self.timeout_ms:
            self.expired = True  # a board would reset here; the sim says so and keeps running
            self._hw.broadcast("watchdog", {"expired": True})


class SimRTC:
    """hw.rtc: unset (None) until the control channel or config sets it; then counts with ticks."""

    def __init__(self, hw):
        self._hw = hw
        self._base = None
        self._base_ticks = 0

    def now(self):
        if self._base is None:
            return None
        return self._base + self._hw.ticks_diff(self._hw.ticks_ms(), self._base_ticks) // 1000

    def set(self, unix_seconds):
        self._base = int(unix_seconds)
        self._base_ticks = self._hw.ticks_ms()

    def sync_ntp(self):
        return False  # no NTP in the simulator: set_time over the control channel instead


# --- the control channel -------------------------------------------------------------------------


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


class Hardware:
    """The simulated board. Attributes as in the core <-> HAL contract; None for anything not fitted."""

    def __init__(self, config):
        self.config = config
        self.host = config.get("sim_control_host", "127.0.0.1")
        if self.host not in _LOOPBACK:
            # Anyone who reaches this port can open the door: never listen beyond this machine.
            raise ValueError("sim_control_host must be a loopback address (127.0.0.1), not %r" % self.host)
        self.port = int(config.get("sim_control_port", 7700))
        self.data_dir = config.get("sim_data_dir") or config.get("data_dir") or "data"
        _make_dirs(self.data_dir)
        self._boot_reason = config.get("sim_boot_reason", "power_on")
        if self._boot_reason not in BOOT_REASONS:
            raise ValueError("sim_boot_reason must be one of " + ", ".join(BOOT_REASONS))
        self._clients = []
        self._history = []
        self.reports = 0
        reader_kind = config.get("sim_reader", "pn532")
        if reader_kind not in ("pn532", "direct"):
            raise ValueError("sim_reader must be 'pn532' or 'direct', not %r" % (reader_kind,))
        self.reader = SimReader(self, reader_kind == "pn532")
        self.actuator = SimActuator(self, int(config.get("sim_travel_ms", 300)),
                                    bool(config.get("sim_actuator_confirms", True)))
        self.door = SimDoor() if config.get("sim_door", True) else None
        self.exit_button = SimButton() if config.get("sim_exit_button", True) else None
        self.led = SimSignal(self, "led")
        self.buzzer = SimSignal(self, "buzzer")
        self.watchdog = SimWatchdog(self, int(config.get("wdt_ms", 8000)))
        self.rtc = SimRTC(self)
        initial_time = config.get("sim_time")
        if initial_time == "host":
            self.rtc.set(int(time.time()))
        elif isinstance(initial_time, int) and not isinstance(initial_time, bool):
            self.rtc.set(initial_time)
        self._server = None

    # --- contract methods ---

    def ticks_ms(self):
        return time.ticks_ms()

    def ticks_diff(self, a, b):
        return time.ticks_diff(a, b)

    def boot_reason(self):
        return self._boot_reason

    def report(self, kind, fields):
        self.reports += 1
        self.broadcast(kind, fields)

    async def start(self):
        if self._server is not None:  # already running (main.py and LockApp.run may both ask)
            return
        try:
            self._server = await asyncio.start_server(self._serve_client, self.host, self.port)
        except OSError as exc:
            raise OSError("sim control channel: cannot listen on %s:%d (%s; another lock on that port?)"
                          % (self.host, self.port, exc))
        asyncio.create_task(self._housekeeping())
        print("sim: control channel on %s:%d" % (self.host, self.port))

    # --- broadcasting ---

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

    async def _housekeeping(self):
        while True:
            self.actuator.step()
            self.watchdog.step()
            await asyncio.sleep_ms(_HOUSEKEEPING_MS)

    # --- one connection ---

    async def _serve_client(self, reader, writer):
        if len(self._clients) >= MAX_CLIENTS:
            writer.write(_dumps({"error": "too_many_clients"}))
            await _close(writer)
            return
        client = _Client(writer)
        self._clients.append(client)
        client.push(_dumps({"report": "hello", "data": self.status()}))
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
            extra = handler(self, command)
        except CommandError as exc:
            reply = {"error": exc.code, "cmd": name}
            if exc.detail:
                reply["detail"] = exc.detail
            if "id" in command:
                reply["id"] = command["id"]
            return reply
        reply["ok"] = True
        if extra:
            reply.update(extra)
        return reply

    def status(self):
        return {
            "device_id": self.config.get("device_id"),
            "boot_reason": self._boot_reason,
            "position": self.actuator.position,
            "target": self.actuator.target,
            "jammed": self.actuator.jammed,
            "moves": self.actuator.moves,
            "door": None if self.door is None else ("open" if self.door.open else "closed"),
            "led": self.led.pattern,
            "buzzer": self.buzzer.pattern,
            "time": self.rtc.now(),
            "watchdog": {"started": self.watchdog.started, "feeds": self.watchdog.feeds,
                         "expired": self.watchdog.expired},
            "reports": self.reports,
            "taps_dropped": self.reader.dropped,
            "reader": "direct" if self.reader.poller is None else "pn532",
            "reader_errors": {} if self.reader.poller is None else self.reader.poller.errors,
        }


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
    hw.door.open = _flag(command, "open")
    hw.broadcast("door_sensor", {"open": hw.door.open})


def _cmd_exit(hw, command):
    if hw.exit_button is None:
        raise CommandError("not_fitted", "no exit button in this configuration")
    hw.exit_button.press()


def _cmd_jam(hw, command):
    hw.actuator.jammed = _flag(command, "on")


def _cmd_set_time(hw, command):
    unix = command.get("unix")
    if isinstance(unix, bool) or not isinstance(unix, int) or unix < 0:
        raise CommandError("bad_field", "unix: non-negative integer seconds")
    hw.rtc.set(unix)
    return {"time": unix}


def _cmd_status(hw, command):
    return {"status": hw.status()}


def _cmd_ping(hw, command):
    return None


def _cmd_history(hw, command):
    return {"reports": [json.loads(line) for line in hw._history]}


_COMMANDS = {
    "tap": _cmd_tap,
    "door": _cmd_door,
    "exit": _cmd_exit,
    "jam": _cmd_jam,
    "set_time": _cmd_set_time,
    "status": _cmd_status,
    "ping": _cmd_ping,
    "history": _cmd_history,
}


async def _close(writer):
    try:
        writer.close()
        await writer.wait_closed()
    except Exception:  # noqa: BLE001 - already gone
        pass


def _make_dirs(path):
    # os.makedirs does not exist on MicroPython.
    parts = [part for part in path.split("/") if part]
    prefix = "/" if path.startswith("/") else ""
    for index in range(len(parts)):
        try:
            os.mkdir(prefix + "/".join(parts[: index + 1]))
        except OSError:  # already there
            pass


def build(config):
    return Hardware(config)
