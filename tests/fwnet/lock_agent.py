# The agent behind tests/fwnet/mp_lock_agent.py (MicroPython only): runs net.link.Link with a lock config and
# prints one JSON object per line on stdout (ev: ...). CONFIG holds, besides the lock's keys, options:
#   agent_heap_every    collect and report the free heap after every N received messages (0: never)
#   agent_echo          print received payloads up to this many bytes (longer ones: length only)
# Commands arrive as JSON lines on stdin: publish, publish_many, heap, status, flush, stop.
# Kept small on purpose: it shares the 128K heap of tests/fwnet/test_mqtt_heap.py with the lock's code.
import asyncio
import gc
import json
import sys

from net.link import Link, LinkConfigError

_state = {"received": 0, "echo": 200, "heap_every": 0}
_done = asyncio.Event()


def emit(obj):
    print(json.dumps(obj))


def heap():
    gc.collect()
    return gc.mem_free()


async def on_message(topic, payload):
    _state["received"] += 1
    event = {"ev": "msg", "topic": bytes(topic).decode(), "len": len(payload), "n": _state["received"]}
    if len(payload) <= _state["echo"]:
        event["payload"] = bytes(payload).decode()
    if _state["heap_every"] and _state["received"] % _state["heap_every"] == 0:
        event["heap"] = heap()
    emit(event)


async def on_connect(session_present):
    emit({"ev": "up", "session": session_present, "heap": heap()})


def report(kind, fields):
    emit({"ev": kind, "data": fields})


async def command(link, cmd):
    name = cmd["cmd"]
    if name == "publish":
        payload = cmd["payload"].encode()
        ok = await link.publish(cmd["topic"], payload, cmd.get("qos", 1), cmd.get("retain", False))
        emit({"ev": "published", "payload": cmd["payload"], "ok": ok})
    elif name == "publish_many":
        for i in range(cmd["count"]):
            payload = "%s-%d" % (cmd["prefix"], i)  # noqa: UP031 (MicroPython)
            await link.publish(cmd["topic"], payload.encode(), cmd.get("qos", 1))
            emit({"ev": "published", "payload": payload})
    elif name == "heap":
        emit({"ev": "heap", "free": heap()})
    elif name == "status":
        emit({"ev": "status", "data": link.status()})
    elif name == "flush":
        emit({"ev": "flushed", "ok": await link.client.flush(cmd.get("timeout_ms", 5000))})
    elif name == "stop":
        await link.stop()
        emit({"ev": "stopped"})
        _done.set()


async def commands(link):
    # Each command runs as its own task: a publish waiting for a window slot must not hold up the rest.
    stdin = asyncio.StreamReader(sys.stdin)
    while True:
        line = await stdin.readline()
        if not line:
            _done.set()
            return
        asyncio.create_task(command(link, json.loads(line)))


async def run(config, start_free):
    emit({"ev": "heap", "free": heap(), "start": start_free, "what": "after_import"})
    _state["echo"] = config.get("agent_echo", 200)
    _state["heap_every"] = config.get("agent_heap_every", 0)
    try:
        link = Link(config, handler=on_message, on_connect=on_connect, report=report)
    except LinkConfigError as exc:
        emit({"ev": "config_error", "error": str(exc)})
        return
    link.start()
    asyncio.create_task(commands(link))
    await _done.wait()


def main(config_path, start_free):
    with open(config_path) as f:
        config = json.load(f)
    asyncio.run(run(config, start_free))
