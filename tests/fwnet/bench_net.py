"""Heap and throughput of the lock's network side (docs/BENCHMARKS.md, "Firmware network side").

    .venv/bin/python -m tests.fwnet.bench_net [--heap 128K] [--count 200] [--mp32 PATH [--mp32-heap 48K]]

tests/fwnet/mp_heap_burst.py imports core.app first (as the firmware does), then runs net.link.Link against a
Mosquitto started here, plain and over TLS (P-256 certificates made by openssl now), and receives a burst of
`count` QoS 1 messages of 4096 bytes published at once by paho-mqtt. Code is loaded from .mpy files
(mpy-cross), as from a lock's flash. Printed per connection: free heap after import, inside on_connect
(connected and subscribed) and the least seen during the burst (gc.collect() every 10 messages), and the
burst's rate.

--mp32 names a 32-bit interpreter with core, net and shared_schema frozen in (/work/shared/tools/esp32-heap:
`build OUT firmware:core firmware:net .:shared_schema`; where the i686 loader is not installed system-wide,
a two-line shell wrapper that runs it through /usr/i686-linux-gnu/lib/ld-linux.so.2): the same run, plain only
(that build has no ssl), with an ESP32's object sizes and the code in "flash", under --mp32-heap.
"""

import argparse
import tempfile
from pathlib import Path

from tests.fwnet.netkit import Mosquitto, compile_code, make_pki, run_burst, tls_listener


def _row(name: str, result: dict) -> str:
    rate = result["n"] / result["seconds"] if result["seconds"] else 0
    return (f"| {name} | {result['after_import']} | {result['after_connect']} | {result['burst_min']} | "
            f"{result['n']} | {rate:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heap", default="128K")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--mp32", help="32-bit interpreter with core, net, shared_schema frozen")
    parser.add_argument("--mp32-heap", default="48K")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        pki = make_pki(directory)
        code = compile_code(directory / "code")
        print(f"heapsize={args.heap}, {args.count} x 4096-byte QoS 1 messages, code from .mpy")
        print("| connection | free after import | free when connected | least free in burst | handled "
              "| msgs/s |")
        print("|---|---|---|---|---|---|")
        runs = [("plain TCP", None, None), ("TLS (P-256, CA pinned)", pki, None)]
        if args.mp32:
            empty = directory / "frozen-only"
            empty.mkdir()
            runs.append((f"plain TCP, 32-bit, frozen, heapsize={args.mp32_heap}", None, (args.mp32, empty)))
        for name, tls, interpreter in runs:
            heap = args.heap if interpreter is None else args.mp32_heap
            broker = Mosquitto(directory, "allow_anonymous true\npersistence false\n"
                               + (tls_listener(pki) if tls else "")).start()
            try:
                if interpreter is None:
                    result = run_burst(directory, broker.port, args.count, code, heap, pki=tls)
                else:
                    result = run_burst(directory, broker.port, args.count, interpreter[1], heap,
                                       micropython=Path(interpreter[0]))
            finally:
                broker.stop()
            print(_row(name, result), flush=True)


if __name__ == "__main__":
    main()
