# micropython-test heapsize=100K
# 10,000 credentials streamed into the store in 12-entry chunks, then a delta merged into it, all under a
# 100 KB heap (an ESP32 without PSRAM has ~100-110 KB). Lookups allocate nothing that grows with the table.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import gc

from tests.firmware import fwenv

from core.decision import tap_verdict
from core.permformat import entry_hash
from core.permstore import PermStore

TOTAL = 10000
CHUNK = 12
WEEKDAYS = [[0x1F, 480, 1140]]


def _entry(n):
    # Every 4th credential has office hours, every 10th an end date: two schedules in the table.
    windows = WEEKDAYS if n % 4 == 0 else []
    return [fwenv.fake_hash(n), 1 if n % 97 == 0 else 0, 0, 2000000000 if n % 10 == 0 else 0, windows]


def _stream_snapshot(store, version):
    parts = (TOTAL + CHUNK - 1) // CHUNK
    result = None
    for i in range(parts):
        # Each chunk is built as it "arrives", as the message decoder would hand it over.
        chunk = [_entry(n) for n in range(i * CHUNK, min(TOTAL, (i + 1) * CHUNK))]
        result = store.snapshot_chunk(version, 1, i, parts, chunk)
        chunk = None
    return result


def _lookup_alloc(store, key):
    """Bytes allocated by one lookup (GC off during it)."""
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    found = store.lookup(key)
    used = gc.mem_alloc() - before
    gc.enable()
    return found, used


class _CountingFile:
    """Wraps the store's open file to count reads: the cost of a lookup that does not depend on timing."""

    def __init__(self, f):
        self.f, self.reads = f, 0

    def seek(self, pos):
        return self.f.seek(pos)

    def readinto(self, buf):
        self.reads += 1
        return self.f.readinto(buf)


def _most_reads_per_lookup(store, keys):
    real = store._file
    store._file = counting = _CountingFile(real)
    most = 0
    try:
        for key in keys:
            counting.reads = 0
            store.lookup(key)
            most = max(most, counting.reads)
    finally:
        store._file = real
    return most


def _tap_alloc(store):
    """Bytes one whole tap (normalize, HMAC, lookup, checks) allocates for an unknown card, GC off."""
    uid = bytes([0x04, 0x77, 0x01, 0x02, 0x03, 0x04, 0x05])
    site_key, table_key = fwenv.SITE_KEY, fwenv.table_key()
    tap_verdict(store, site_key, table_key, "iso14443a", uid, 1795392000, [[0, 0]], None, "normal")  # warm up
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    verdict = tap_verdict(store, site_key, table_key, "iso14443a", uid, 1795392000, [[0, 0]], None, "normal")
    used = gc.mem_alloc() - before
    gc.enable()
    assert verdict.reason == "unknown_credential", verdict.reason
    return used


def test_ten_thousand_credentials_under_small_heap():
    d = fwenv.temp_dir()
    store = PermStore(d)
    assert _stream_snapshot(store, 1) == "applied"
    assert (store.status, store.version, store.count) == ("ok", 1, TOTAL)
    for n in (0, 1, 4, 97, 4999, 5000, TOTAL - 1):
        expected = _entry(n)
        assert store.lookup(entry_hash(expected)), n
        assert [store.role, store.valid_from, store.valid_until, store.windows()] == expected[1:], n
    for n in (TOTAL, TOTAL + 1, 123456):
        assert not store.lookup(entry_hash(_entry(n)))
    # Allocation per lookup: the same for a hit in a 10k table as for a miss, and small.
    hit, hit_bytes = _lookup_alloc(store, entry_hash(_entry(7777)))
    miss, miss_bytes = _lookup_alloc(store, entry_hash(_entry(TOTAL + 5)))
    assert hit and not miss
    assert hit_bytes <= 256 and miss_bytes <= 256, (hit_bytes, miss_bytes)

    # O(log n): binary search over the file, at most ceil(log2(10000)) = 14 probes plus the first record's
    # hash and fields.
    probes = [entry_hash(_entry(n)) for n in (0, 1, 2500, 4999, TOTAL - 1)] + [entry_hash(_entry(TOTAL + 3))]
    assert _most_reads_per_lookup(store, probes) <= 16
    # The whole tap allocates the same with 10,000 credentials as with 12: nothing grows with the table.
    small_dir = fwenv.temp_dir()
    small = PermStore(small_dir)
    assert small.snapshot_chunk(1, 1, 0, 1, [_entry(n) for n in range(CHUNK)]) == "applied"
    small_reads = _most_reads_per_lookup(small, probes)
    small_alloc = _tap_alloc(small)
    small.close()
    fwenv.remove_tree(small_dir)
    big_alloc = _tap_alloc(store)
    assert big_alloc == small_alloc, (big_alloc, small_alloc)
    assert small_reads <= 6  # log2(12) rounded up, plus the record read

    # A delta merged by streaming the 10k-record file into a new one.
    adds = [_entry(TOTAL + 1), [fwenv.fake_hash(5000), 1, 0, 0, WEEKDAYS]]
    adds.sort(key=lambda e: e[0])
    deletes = [fwenv.fake_hash(1), fwenv.fake_hash(9998)]
    assert store.apply_delta(1, 2, adds, deletes) == "applied"
    assert (store.version, store.count) == (2, TOTAL - 1)  # +1 new, 1 replaced, -2 deleted
    assert not store.lookup(entry_hash(_entry(1))) and not store.lookup(entry_hash(_entry(9998)))
    assert store.lookup(entry_hash(_entry(TOTAL + 1)))
    assert store.lookup(entry_hash(_entry(5000))) and store.role == 1 and store.windows() == WEEKDAYS
    assert store.lookup(entry_hash(_entry(4))) and store.windows() == WEEKDAYS

    adds = deletes = None
    gc.collect()
    used = gc.mem_alloc()
    free = gc.mem_free()
    store.close()
    store = None
    gc.collect()
    # What the store holds is what its release frees (a difference against `base` would also count garbage
    # the conservative GC still sees through stale stack slots).
    store_ram = used - gc.mem_alloc()
    print("10k store: heap after gc.collect(): %d B used (the store object and its buffers %d B), %d B free;"
          " one lookup allocates %d B, a whole tap %d B (the same at 12 credentials)"
          % (used, store_ram, free, hit_bytes, big_alloc))
    assert store_ram < 4096  # the store's RAM does not grow with the table
    fwenv.remove_tree(d)
