"""Firmware core benchmarks on the real MicroPython interpreter (docs/BENCHMARKS.md, "Firmware").

    .venv/bin/python tools/bench_firmware.py [--sizes 100,1000,10000,50000] [--heap 112K]
    .venv/bin/python tools/bench_firmware.py --module-heap [--tree DIR]

For each table size a fresh `micropython -X heapsize=<heap>` process streams a snapshot of that many
credentials into a permission store on the host filesystem, then measures:
  - per-tap time: decide() on a known credential (binary search + checks), and the whole tap path for an
    unknown card (normalize + HMAC-SHA256 + binary search + refusal);
  - heap: bytes allocated by one tap (GC disabled around it, so this bounds the tap's peak), and the
    steady-state heap after gc.collect() with the store open;
  - flash: store file bytes per credential;
  - a delta (10 adds, 10 deletes) merged in steps as app.apply_delta runs it: total time, number of steps,
    and the longest step (the longest a tap waits for the event loop while an update runs).
A last process measures the event log on LittleFS v2 (4 KiB blocks, as on the ESP32) over a RAM block
device: file bytes per event, filesystem blocks used, and bytes programmed/erased per append (wear).
Timings are wall-clock on this host's unix port; an ESP32 is roughly 10-30x slower.

--module-heap compiles firmware/ and shared_schema/ (of the repo, or of another checkout given by --tree, e.g.
`git archive REV firmware shared_schema tests/firmware/fake_board | tar -x -C DIR` for a before/after figure)
with mpy-cross into a board-like directory and imports the modules of an ESP32 boot one at a time, in
dependency order, printing the heap each one adds after gc.collect() (the stand-in `machine` stands for the
board's). Modules a boot never imports (the simulator, the message table) are measured separately at the end.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MICROPYTHON = os.environ.get("MICROPYTHON") or str(Path(sys.executable).parent / "micropython")

# Runs under MicroPython: argv = [script, root, size, data_dir]
_STORE_BENCH = r"""
import sys, gc, os, time
root, size, data_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, root)
sys.path.insert(0, root + "/firmware")
from core.permstore import PermStore
from core.decision import decide, tap_verdict
from core.permformat import entry_hash

CHUNK = 16
# Padded once, as LockApp does at boot (core.app.parse_site_key), so the tap path is measured as it runs.
from shared_schema.hmac_sha256 import HmacKey
from shared_schema.credentials import table_key
SITE_KEY = HmacKey(b"bench-site-key-0123456789abcdef")
TABLE_KEY = table_key(b"bench-device-secret-0123456789ab")


def fake_hash(n):
    return "%032x" % (n * 2654435761 + 7)


def entry(n):
    windows = [[0x1F, 480, 1140]] if n % 4 == 0 else []
    return [fake_hash(n), 1 if n % 97 == 0 else 0, 0, 0, windows]


def allocated(fn):
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    fn()
    used = gc.mem_alloc() - before
    gc.enable()
    return used


now = 1795392000 + 10 * 3600
offsets = [[0, 540]]
M = 128  # distinct keys spread over the table, each looked up ROUNDS times
ROUNDS = 16
TRIALS = 5
keys = [None] * M
uids = [None] * 64
gc.collect()
base = gc.mem_alloc()
store = PermStore(data_dir)
gc.collect()
store_ram = gc.mem_alloc() - base  # the store object and its preallocated buffers
parts = (size + CHUNK - 1) // CHUNK
t0 = time.ticks_ms()
for i in range(parts):
    chunk = [entry(n) for n in range(i * CHUNK, min(size, (i + 1) * CHUNK))]
    result = store.snapshot_chunk(1, 1, i, parts, chunk)
chunk = None
build_ms = time.ticks_diff(time.ticks_ms(), t0)
assert result == "applied" and store.count == size, result
t0 = time.ticks_ms()
store.open()  # what every boot does: footer, CRC over the whole file, schedule table walk
open_ms = time.ticks_diff(time.ticks_ms(), t0)
assert store.status == "ok"

step = max(1, size // M)
for j in range(M):
    keys[j] = entry_hash(entry((j * step) % size))

hit_us = 1e9
for _ in range(TRIALS):  # best of TRIALS: the host is shared, the minimum is the least disturbed
    gc.collect()
    t0 = time.ticks_us()
    for _ in range(ROUNDS):
        for key in keys:
            v = decide(store, key, now, offsets, None, "normal")
    hit_us = min(hit_us, time.ticks_diff(time.ticks_us(), t0) / (M * ROUNDS))
assert v.granted or v.reason == "outside_schedule"

for j in range(len(uids)):
    uids[j] = bytes([4, 16, (j >> 8) & 255, j & 255, 1, 2, 3])
tap_us = 1e9
for _ in range(TRIALS):
    gc.collect()
    t0 = time.ticks_us()
    for _ in range(ROUNDS):
        for uid in uids:
            v = tap_verdict(store, SITE_KEY, TABLE_KEY, "iso14443a", uid, now, offsets, None, "normal")
    tap_us = min(tap_us, time.ticks_diff(time.ticks_us(), t0) / (len(uids) * ROUNDS))
assert v.reason == "unknown_credential"



hit_alloc = allocated(lambda: decide(store, keys[7], now, offsets, None, "normal"))
tap_alloc = allocated(
    lambda: tap_verdict(store, SITE_KEY, TABLE_KEY, "iso14443a", uids[3], now, offsets, None, "normal")
)
v = None
gc.collect()
steady = gc.mem_alloc()
flash = os.stat(data_dir + "/perm.db")[6]


class CountingFile:
    # Wraps the store's open file to count reads: the deterministic cost of a lookup.
    def __init__(self, f):
        self.f, self.reads = f, 0

    def seek(self, pos):
        return self.f.seek(pos)

    def readinto(self, buf):
        self.reads += 1
        return self.f.readinto(buf)


# A delta merged in steps (what app.apply_delta runs): the whole merge + read-back check, and the longest
# step, which is the longest a tap at the door waits for the loop while the update runs.
adds = sorted([entry(size + 1 + n) for n in range(10)], key=lambda e: e[0])
gc.collect()
steps = store.delta_steps(1, 2, adds, [fake_hash(n) for n in range(0, size, max(1, size // 10))][:10])
longest_us = 0
count_steps = 0
t0 = time.ticks_ms()
while True:
    t1 = time.ticks_us()
    try:
        next(steps)
    except StopIteration as done:
        result = done.value
        break
    longest_us = max(longest_us, time.ticks_diff(time.ticks_us(), t1))
    count_steps += 1
merge_ms = time.ticks_diff(time.ticks_ms(), t0)
assert result == "applied", result
steps = None

real_file = store._file
store._file = counter = CountingFile(real_file)
for key in keys:
    store.lookup(key)
hit_reads = counter.reads / len(keys)
store._file = real_file
print("RESULT size=%d build_ms=%d open_ms=%d hit_us=%.1f tap_us=%.1f hit_alloc=%d tap_alloc=%d "
      "steady=%d store_ram=%d heap_total=%d flash=%d per_cred=%.2f reads=%.1f merge_ms=%d merge_steps=%d "
      "longest_step_us=%d"
      % (size, build_ms, open_ms, hit_us, tap_us, hit_alloc, tap_alloc, steady, store_ram,
         gc.mem_alloc() + gc.mem_free(), flash, flash / size, hit_reads, merge_ms, count_steps, longest_us))
store.close()
"""

# Runs under MicroPython: argv = [script, root]
_LOG_BENCH = r"""
import sys, gc, os, vfs
root = sys.argv[1]
sys.path.insert(0, root)
sys.path.insert(0, root + "/firmware")
from core.state import State
from core.eventlog import EventLog


class RamFlash:
    # LittleFS block device in RAM that counts programmed bytes and erases.
    def __init__(self, block_size, blocks):
        self.bs, self.n = block_size, blocks
        self.data = bytearray(block_size * blocks)
        self.programmed = 0
        self.erases = 0

    def readblocks(self, block, buf, offset=0):
        start = block * self.bs + offset
        buf[:] = self.data[start:start + len(buf)]

    def writeblocks(self, block, buf, offset=None):
        start = block * self.bs + (offset or 0)
        self.data[start:start + len(buf)] = buf
        self.programmed += len(buf)

    def ioctl(self, op, arg):
        if op == 4:
            return self.n
        if op == 5:
            return self.bs
        if op == 6:
            self.erases += 1
        return 0


dev = RamFlash(4096, 128)
vfs.VfsLfs2.mkfs(dev)
vfs.mount(vfs.VfsLfs2(dev), "/flash")
free0 = os.statvfs("/flash")[3]
state = State("/flash")
log = EventLog("/flash", state, 1024)
log.append("boot", 0, None, "power_on")
N = 1000
p0, e0 = dev.programmed, dev.erases
cred = b"\x5a" * 16
for i in range(N):
    log.append("granted", 1795392000 + i, cred, "ok")
programmed, erases = dev.programmed - p0, dev.erases - e0
files = 0
for name in os.listdir("/flash"):
    if name.startswith("ev"):
        files += os.stat("/flash/" + name)[6]
blocks = free0 - os.statvfs("/flash")[3]
print("RESULT events=%d file_bytes_per_event=%.1f fs_blocks=%d fs_bytes_per_event=%.1f "
      "programmed_per_event=%.1f erases_per_1000=%d"
      % (N + 1, files / (N + 1), blocks, blocks * 4096 / (N + 1), programmed / N, erases * 1000 // N))
"""


# Runs under MicroPython in the board directory: argv = [script, module, module, ...]
_MODULE_HEAP = r"""
import sys, gc, micropython


def qstr_marker():
    # qstr_info() prints "qstr pool: ... n_total_bytes=N"; the reader of stdout subtracts consecutive values.
    micropython.qstr_info()


gc.collect()
start = last = gc.mem_free()
qstr_marker()
for name in sys.argv[1:]:
    if name == "|":  # the rest: modules a boot does not import, each measured on top of the boot set
        print("BOOT_TOTAL %d" % (start - last))
        continue
    before = set(sys.modules)
    __import__(name)
    gc.collect()
    extra = sorted(m for m in sys.modules if m not in before and m != name)
    print("MODULE %s %d %s" % (name, last - gc.mem_free(), ",".join(extra)))
    qstr_marker()
    last = gc.mem_free()
"""

# The modules an ESP32 boot imports, leaves first, so each line is that module's own code.
BOOT_MODULES = (
    "asyncio", "machine", "shared_schema", "shared_schema.vocabulary", "shared_schema.hmac_sha256",
    "shared_schema.credentials", "shared_schema.schedule",
    "core", "core.fsutil", "core.config", "core.reasons", "core.state", "core.clock", "core.permformat",
    "core.permwriter", "core.permread", "core.permstore", "core.eventlog", "core.site", "core.keys",
    "core.decision", "core.thumbturn",
    "core.cloudapi", "core.app",
    "drivers", "drivers.inputs", "drivers.servo", "drivers.signals", "drivers.pn532", "drivers.pn532_i2c",
    "hal", "hal.esp32",
)
# Loaded only on demand, or never on a board.
OTHER_MODULES = ("drivers.pn532_uart", "drivers.relay", "shared_schema.canonical", "shared_schema.messages",
                 "hal.sim")


def _compile_tree(mpy_cross: str, source: Path, target: Path) -> None:
    for path in sorted(source.rglob("*.py")):
        out = target / path.relative_to(source).with_suffix(".mpy")
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([mpy_cross, "-o", str(out), str(path)], check=True, capture_output=True)


def module_heap(tree: Path) -> list[tuple[str, int, str, int]]:
    """(module, heap bytes its import adds, other modules it pulled in, of which interned names) for a
    boot, from .mpy files. The names (qstrs) go into pools that grow by doubling, so a module that starts a
    new pool is charged for it: the per-module figures are rough, the total is exact."""
    mpy_cross = str(Path(MICROPYTHON).parent / "mpy-cross")
    with tempfile.TemporaryDirectory(prefix="bench_heap_") as tmp:
        board = Path(tmp)
        _compile_tree(mpy_cross, tree / "firmware", board)
        _compile_tree(mpy_cross, tree / "shared_schema", board / "shared_schema")
        _compile_tree(mpy_cross, ROOT / "tests" / "firmware" / "fake_board", board)
        for name in ("main.mpy", "boot.mpy"):
            (board / name).unlink(missing_ok=True)
        (board / "heap.py").write_text(_MODULE_HEAP)
        known = [m for m in BOOT_MODULES if _exists(board, m)]
        others = [m for m in OTHER_MODULES if _exists(board, m)]
        proc = subprocess.run(
            [MICROPYTHON, "-X", "heapsize=2M", "heap.py", *known, "|", *others],
            cwd=board, capture_output=True, text=True, timeout=120,
        )
        shutil.rmtree(board / "__pycache__", ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout + proc.stderr)
    rows: list[tuple[str, int, str, int]] = []
    qstr_total = qstr_last = 0
    for line in proc.stdout.splitlines():
        parts = line.split(" ")
        if line.startswith("qstr pool:"):
            qstr_total = int(line.rsplit("n_total_bytes=", 1)[1])
            if rows and rows[-1][0] != "BOOT_TOTAL":
                rows[-1] = (*rows[-1][:3], qstr_total - qstr_last)
            qstr_last = qstr_total
        elif parts[0] == "MODULE":
            rows.append((parts[1], int(parts[2]), parts[3] if len(parts) > 3 else "", 0))
        elif parts[0] == "BOOT_TOTAL":
            rows.append(("BOOT_TOTAL", int(parts[1]), "", qstr_total))
    return rows


def _exists(board: Path, module: str) -> bool:
    if module in ("asyncio",):
        return True
    path = board.joinpath(*module.split("."))
    return path.with_suffix(".mpy").exists() or (path / "__init__.mpy").exists()


def print_module_heap(tree: Path) -> None:
    print(f"heap added by each module's import, from .mpy, 64-bit unix port ({tree}):")
    print("| module | heap (B) | of which interned names, qstr pools (B) | also pulled in |")
    print("|---|---|---|---|")
    total = total_qstr = 0
    boot = True
    for name, size, extra, qstr in module_heap(tree):
        if name == "BOOT_TOTAL":  # the sum of the rows above (the script's own allocations left out)
            print(f"| **total of an ESP32 boot's modules** | **{total}** | {total_qstr} | |")
            boot = False
            continue
        print(f"| {name} | {size} | {qstr} | {extra} |")
        if boot:
            total += size
            total_qstr += qstr


def _run(script: str, args: list[str], heap: str) -> dict[str, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        proc = subprocess.run(
            [MICROPYTHON, "-X", f"heapsize={heap}", path, *args], capture_output=True, text=True, timeout=900
        )
    finally:
        os.unlink(path)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(part.split("=", 1) for part in line.split()[1:])
    raise RuntimeError(f"benchmark failed (heap {heap}):\n{proc.stdout}\n{proc.stderr}")


def bench_store(size: int, heap: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="bench_fw_") as data_dir:
        return _run(_STORE_BENCH, [str(ROOT), str(size), data_dir], heap)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000,50000", help="credential counts, comma separated")
    # 112K: this script compiles the core from source in its own process, which since protocol v2 leaves the
    # 10,000-record delta too little contiguous heap at 100K (mp_test_store_10k.py still runs in 100K).
    parser.add_argument("--heap", default="112K", help="MicroPython heap for the store runs (default 112K)")
    parser.add_argument("--module-heap", action="store_true", help="only the heap each firmware module takes")
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to measure with --module-heap")
    args = parser.parse_args(argv)
    if args.module_heap:
        print_module_heap(args.tree)
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(f"MicroPython: {MICROPYTHON}, heap {args.heap}")
    header = (
        "| credentials | build (ms) | open + verify (ms) | file reads per lookup | decide, hit (us) "
        "| tap path, unknown card (us) | alloc per decide (B) | alloc per tap (B) | store RAM (B) "
        "| heap used after gc (B) "
        "| flash (B) | flash per credential (B) | delta merge + check (ms) | steps | longest step (ms) |"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    results = []
    for size in sizes:
        r = bench_store(size, args.heap)
        results.append(r)
        print(
            f"| {size} | {r['build_ms']} | {r['open_ms']} | {r['reads']} | {r['hit_us']} | {r['tap_us']} "
            f"| {r['hit_alloc']} | {r['tap_alloc']} | {r['store_ram']} | {r['steady']} | {r['flash']} "
            f"| {r['per_cred']} | {r['merge_ms']} | {r['merge_steps']} "
            f"| {int(r['longest_step_us']) / 1000:.2f} |"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        decide_ratio = float(last["hit_us"]) / float(first["hit_us"])
        tap_ratio = float(last["tap_us"]) / float(first["tap_us"])
        print(
            f"growth {sizes[0]} -> {sizes[-1]} credentials: decide x{decide_ratio:.2f}, "
            f"tap x{tap_ratio:.2f}, alloc per tap {first['tap_alloc']} -> {last['tap_alloc']} B"
        )
    log = _run(_LOG_BENCH, [str(ROOT)], "4M")
    print(
        f"event log on LittleFS (4 KiB blocks): {log['file_bytes_per_event']} file bytes/event, "
        f"{log['fs_bytes_per_event']} filesystem bytes/event "
        f"({log['fs_blocks']} blocks for {log['events']} events), "
        f"{log['programmed_per_event']} bytes programmed per append, {log['erases_per_1000']} block erases "
        "per 1000 appends"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
