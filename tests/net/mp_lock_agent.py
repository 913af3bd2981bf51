# The lock's network side on the real MicroPython interpreter, driven by the tests in this folder:
#
#   micropython -X heapsize=128K tests/net/mp_lock_agent.py CONFIG.json
#
# CONFIG is a lock config (device_id, broker_*, keepalive_s, ...) plus options for the agent:
#   agent_import_core   import core.app first (the firmware's heap as a lock has it) and report the heap
#   agent_heap_every    collect and report the free heap after every N received messages (0: never)
#   agent_echo          print received payloads up to this many bytes (longer ones: length only)
# It runs net.link.Link and prints one JSON object per line on stdout (ev: ...). Commands arrive as JSON
# lines on stdin: publish, publish_many, heap, status, flush, stop.
import sys

sys.path.insert(0, "firmware")
sys.path.insert(0, ".")

import gc  # noqa: E402
import json  # noqa: E402

gc.collect()
_START_FREE = gc.mem_free()
with open(sys.argv[1]) as _f:
    CONFIG = json.load(_f)
if CONFIG.get("agent_import_core"):
    import core.app  # noqa: E402, F401 - measured: the firmware's own modules share this heap

import asyncio  # noqa: E402

from net.link import Link, LinkConfigError  # noqa: E402


def emit(obj):
    print(json.dumps(obj))


def heap():
    gc.collect()
    return gc.mem_free()


class Agent:
    def __init__(self, config):
        self.echo = config.get("agent_echo", 200)
        self.heap_every = config.get("agent_heap_every", 0)
        self.received = 0
        self.done = asyncio.Event()
        self.link = Link(config, handler=self.on_message, on_connect=self.on_connect, report=self.report)

    async def on_message(self, topic, payload):
        self.received += 1
        event = {"ev": "msg", "topic": bytes(topic).decode(), "len": len(payload), "n": self.received}
        if len(payload) <= self.echo:
            event["payload"] = bytes(payload).decode()
        if self.heap_every and self.received % self.heap_every == 0:
            event["heap"] = heap()
        emit(event)

    async def on_connect(self, session_present):
        emit({"ev": "up", "session": session_present, "heap": heap()})

    def report(self, kind, fields):
        emit({"ev": kind, "data": fields})

    async def command(self, cmd):
        name = cmd.get("cmd")
        if name == "publish":
            ok = await self.link.publish(cmd["topic"], cmd["payload"].encode(), cmd.get("qos", 1),
                                         cmd.get("retain", False))
            emit({"ev": "published", "payload": cmd["payload"], "ok": ok})
        elif name == "publish_many":
            for i in range(cmd["count"]):
                payload = "%s-%d" % (cmd["prefix"], i)  # noqa: UP031 (MicroPython)
                await self.link.publish(cmd["topic"], payload.encode(), cmd.get("qos", 1))
                emit({"ev": "published", "payload": payload})
        elif name == "heap":
            emit({"ev": "heap", "free": heap(), "start": _START_FREE})
        elif name == "status":
            emit({"ev": "status", "data": self.link.status()})
        elif name == "flush":
            emit({"ev": "flushed", "ok": await self.link.client.flush(cmd.get("timeout_ms", 5000))})
        elif name == "stop":
            await self.link.stop()
            emit({"ev": "stopped"})
            self.done.set()
        else:
            emit({"ev": "bad_command", "cmd": name})

    async def commands(self):
        # Each command runs as its own task: a publish waiting for a window slot must not hold up the rest.
        stdin = asyncio.StreamReader(sys.stdin)
        while True:
            line = await stdin.readline()
            if not line:
                self.done.set()
                return
            asyncio.create_task(self.command(json.loads(line)))


async def main():
    emit({"ev": "heap", "free": heap(), "start": _START_FREE, "what": "after_import"})
    try:
        agent = Agent(CONFIG)
    except LinkConfigError as exc:
        emit({"ev": "config_error", "error": str(exc)})
        return
    agent.link.start()
    asyncio.create_task(agent.commands())
    await agent.done.wait()


asyncio.run(main())
