# The lock's network side in the heap a lock has (tests/fwnet/test_mqtt_heap.py, tests/fwnet/bench_net.py):
#
#   micropython -X heapsize=128K tests/fwnet/mp_heap_burst.py CODE_DIR CONFIG.json COUNT
#
# CODE_DIR holds firmware/core, firmware/net and shared_schema compiled by mpy-cross (as on the lock's flash).
# Imports core.app first, as the firmware does, then runs net.link.Link with CONFIG until COUNT messages
# have been handled, collecting the heap every 10th. Prints JSON lines: "ready" once subscribed (with the
# heap after import and after connect), then "done" with the least heap seen and the link's status.
# Deliberately tiny: this script shares the heap it measures.
import sys

sys.path.insert(0, sys.argv[1])
import gc  # noqa: E402

gc.collect()
import core.app  # noqa: E402, F401

gc.collect()
import asyncio  # noqa: E402
import json  # noqa: E402

from net.link import Link  # noqa: E402

gc.collect()
figures = {"after_import": gc.mem_free(), "count": int(sys.argv[3]), "n": 0, "sizes": 0}
finished = asyncio.Event()


async def on_message(topic, payload):
    figures["n"] += 1
    figures["sizes"] |= len(payload)
    if figures["n"] % 10 == 0:
        gc.collect()
        figures["burst_min"] = min(figures.get("burst_min", 1 << 30), gc.mem_free())
    if figures["n"] == figures["count"]:
        finished.set()


async def on_connect(session_present):
    gc.collect()
    figures["after_connect"] = gc.mem_free()
    print(json.dumps({"ev": "ready", "figures": figures}))


async def main():
    with open(sys.argv[2]) as f:
        link = Link(json.load(f), handler=on_message, on_connect=on_connect)
    link.start()
    await finished.wait()
    figures["status"] = link.status()
    await link.stop()
    print(json.dumps({"ev": "done", "figures": figures}))


asyncio.run(main())
