# micropython-test heapsize=100K
# core.permstore on the real MicroPython interpreter: snapshots in chunks, deltas, refusals that keep the old
# version, and corrupted or truncated files detected and refused.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
from tests.firmware import fwenv

from core import permformat
from core.permstore import PermStore

WEEKDAYS = [[0x1F, 540, 1080]]
NIGHTS = [[0x7F, 1320, 360]]


def _entries(numbers, role=0, windows=None):
    out = []
    for n in numbers:
        w = windows if windows is not None else (WEEKDAYS if n % 2 else NIGHTS if n % 3 else [])
        out.append([fwenv.fake_hash(n), role if n % 5 else 1, 0 if n % 7 else 1000 + n, 0, w])
    return out


def _assert_matches(store, entries, absent=()):
    for entry in entries:
        key = permformat.entry_hash(entry)
        assert store.lookup(key), entry[0]
        assert [store.role, store.valid_from, store.valid_until, store.windows()] == entry[1:], entry
    for n in absent:
        assert not store.lookup(permformat.entry_hash([fwenv.fake_hash(n)])), n


def _new_store():
    d = fwenv.temp_dir()
    return d, PermStore(d)


def _done(d, store):
    store.close()
    fwenv.remove_tree(d)


def test_fresh_store_is_empty_version_zero():
    d, store = _new_store()
    assert (store.status, store.version, store.count) == ("missing", 0, 0)
    assert not store.lookup(b"\x00" * 16)
    _done(d, store)


def test_snapshot_in_chunks_then_lookup():
    d, store = _new_store()
    entries = _entries(range(1, 31))
    parts = fwenv.chunks(entries, 12)
    assert store.snapshot_chunk(3, 1, 0, 3, parts[0]) == "partial"
    assert store.version == 0 and store.snapshot_in_progress()
    assert store.snapshot_chunk(3, 1, 1, 3, parts[1]) == "partial"
    assert store.snapshot_chunk(3, 1, 2, 3, parts[2]) == "applied"
    assert (store.status, store.version, store.count) == ("ok", 3, 30)
    _assert_matches(store, entries, absent=(0, 31, 1000))
    # three distinct window lists are stored once each, not once per credential
    assert store.schedules == 2
    reopened = PermStore(d)
    assert (reopened.status, reopened.version, reopened.count) == ("ok", 3, 30)
    _assert_matches(reopened, entries)
    reopened.close()
    _done(d, store)


def test_empty_snapshot_clears_the_store():
    d, store = _new_store()
    assert fwenv.install_snapshot(store, 1, _entries(range(1, 5))) == "applied"
    assert store.snapshot_chunk(2, 1, 0, 1, []) == "applied"
    assert (store.version, store.count) == (2, 0)
    _assert_matches(store, [], absent=(1, 2, 3, 4))
    _done(d, store)


def test_bad_snapshots_keep_the_old_version():
    d, store = _new_store()
    old = _entries(range(1, 11))
    assert fwenv.install_snapshot(store, 1, old) == "applied"
    new = _entries(range(20, 40))
    # out of order chunk
    assert store.snapshot_chunk(2, 1, 0, 2, new[:10]) == "partial"
    assert store.snapshot_chunk(2, 1, 0 + 1, 3, new[10:]) == "snapshot_out_of_order"
    assert not store.snapshot_in_progress()
    # chunk of another version in the middle
    assert store.snapshot_chunk(2, 1, 0, 2, new[:10]) == "partial"
    assert store.snapshot_chunk(9, 1, 1, 2, new[10:]) == "snapshot_out_of_order"
    # a later chunk without its start
    assert store.snapshot_chunk(2, 1, 1, 2, new[10:]) == "snapshot_out_of_order"
    # entries not sorted across chunks
    assert store.snapshot_chunk(2, 1, 0, 2, new[10:]) == "partial"
    assert store.snapshot_chunk(2, 1, 1, 2, new[:10]) == "entries_not_sorted"
    # duplicate inside a chunk
    assert store.snapshot_chunk(2, 1, 0, 1, [new[0], new[0]]) == "entries_not_sorted"
    # malformed entries, each with its own reason
    bad = [
        ([["zz" * 16, 0, 0, 0, []]], "entry_hash"),
        ([[new[0][0].upper(), 0, 0, 0, []]], "entry_hash"),
        ([[new[0][0], 2, 0, 0, []]], "entry_role"),
        ([[new[0][0], True, 0, 0, []]], "entry_role"),
        ([[new[0][0], 0, 50, 40, []]], "entry_validity"),
        ([[new[0][0], 0, -1, 0, []]], "entry_validity"),
        ([[new[0][0], 0, 0, 0, [[0, 1, 2]]]], "entry_windows"),
        ([[new[0][0], 0, 0, 0, [[1, 5, 5]]]], "entry_windows"),
        ([[new[0][0], 0, 0, 0, [[1, 1, 2]] * 9]], "entry_windows"),
        ([[new[0][0], 0, 0, 0]], "entry_shape"),
        (["not a list"], "entry_shape"),
    ]
    for entries, reason in bad:
        assert store.snapshot_chunk(2, 1, 0, 1, entries) == reason, reason
    assert store.snapshot_chunk(2, 1, 3, 2, new) == "bad_snapshot_chunk"
    assert store.snapshot_chunk(0, 1, 0, 1, new) == "bad_snapshot_chunk"
    assert store.snapshot_chunk(2, 1, 0, 1, "entries") == "bad_snapshot_chunk"
    assert (store.status, store.version, store.count) == ("ok", 1, 10)
    _assert_matches(store, old, absent=range(20, 40))
    _done(d, store)


def test_too_many_distinct_schedules_refused():
    d, store = _new_store()
    result = None
    for i in range(25):  # 300 credentials, each with its own schedule, streamed 12 at a time
        chunk = [[fwenv.fake_hash(n), 0, 0, 0, [[1, n, n + 1]]] for n in range(12 * i, 12 * i + 12)]
        result = store.snapshot_chunk(1, 1, i, 25, chunk)
        if result != "partial":
            break
    assert result == "too_many_schedules" and i == 21  # the 256th distinct schedule is in chunk 21
    assert store.status == "missing"
    _done(d, store)


def test_delta_adds_replaces_and_deletes():
    d, store = _new_store()
    old = _entries(range(1, 21))
    assert fwenv.install_snapshot(store, 4, old) == "applied"
    replaced = [fwenv.fake_hash(5), 1, 0, 2000000000, [[0x01, 0, 60]]]
    adds = [[fwenv.fake_hash(0), 0, 0, 0, []], replaced, [fwenv.fake_hash(25), 0, 7, 0, NIGHTS]]
    deletes = [fwenv.fake_hash(2), fwenv.fake_hash(20), fwenv.fake_hash(99)]  # 99 was never there
    assert store.apply_delta(4, 5, adds, deletes) == "applied"
    assert (store.version, store.count) == (5, 20)
    expected = [e for e in old if e[0] not in (fwenv.fake_hash(2), fwenv.fake_hash(20), fwenv.fake_hash(5))]
    _assert_matches(store, expected + adds, absent=(2, 20, 99))
    # the far-future validity is clamped to u32 but stays "valid until then"
    assert store.apply_delta(5, 6, [[fwenv.fake_hash(7), 0, 0, 1 << 40, []]], []) == "applied"
    assert store.lookup(permformat.entry_hash([fwenv.fake_hash(7)])) and store.valid_until == 0xFFFFFFFF
    _done(d, store)


def test_delta_refusals():
    d, store = _new_store()
    old = _entries(range(1, 6))
    assert fwenv.install_snapshot(store, 4, old) == "applied"
    h1, h2 = fwenv.fake_hash(1), fwenv.fake_hash(2)
    assert store.apply_delta(3, 5, [], [h1]) == "base_mismatch"
    assert store.apply_delta(4, 4, [], [h1]) == "bad_delta_version"
    assert store.apply_delta(4, 5, [[h2, 0, 0, 0, []], [h1, 0, 0, 0, []]], []) == "entries_not_sorted"
    assert store.apply_delta(4, 5, [], [h2, h1]) == "deletes_not_sorted"
    assert store.apply_delta(4, 5, [[h1, 0, 0, 0, []]], [h1]) == "delta_conflict"
    assert store.apply_delta(4, 5, [], ["xyz"]) == "bad_delete_hash"
    assert store.apply_delta(4, 5, [[h1, 3, 0, 0, []]], []) == "entry_role"
    assert store.apply_delta(4, 5, "add", []) == "bad_delta"
    assert (store.version, store.count) == (4, 5)
    _assert_matches(store, old)
    # a delta onto an empty (fresh) store names base 0
    d2, fresh = _new_store()
    assert fresh.apply_delta(0, 1, [[h1, 0, 0, 0, []]], []) == "applied"
    assert fresh.lookup(permformat.entry_hash([h1]))
    _done(d2, fresh)
    _done(d, store)


def _corrupt_and_reopen(d, position, data):
    with open(d + "/perm.db", "r+b") as f:
        f.seek(position)
        f.write(data)
    return PermStore(d)


def test_damaged_files_are_refused():
    d, store = _new_store()
    entries = _entries(range(1, 21))
    assert fwenv.install_snapshot(store, 7, entries) == "applied"
    store.close()
    with open(d + "/perm.db", "rb") as f:
        good = f.read()
    size = len(good)
    for position in (0, 15, 16, 25, 20 * 26 + 1, size - 30, size - 2):
        with open(d + "/perm.db", "wb") as f:
            f.write(good)
        flipped = bytes([good[position] ^ 0x04])
        damaged = _corrupt_and_reopen(d, position, flipped)
        assert damaged.status == "corrupt", position
        assert not damaged.lookup(permformat.entry_hash(entries[0]))
        assert damaged.apply_delta(7, 8, [], []) == "base_mismatch"  # the cloud must send a snapshot
        damaged.close()
    for length in (0, 10, 26 * 10, size - 36, size - 1):
        with open(d + "/perm.db", "wb") as f:
            f.write(good[:length])
        damaged = PermStore(d)
        assert damaged.status == "corrupt", length
        damaged.close()
    # a snapshot repairs it
    damaged = PermStore(d)
    assert fwenv.install_snapshot(damaged, 8, entries) == "applied"
    _assert_matches(damaged, entries)
    _done(d, damaged)


def test_leftover_partial_update_is_discarded():
    d, store = _new_store()
    entries = _entries(range(1, 6))
    assert fwenv.install_snapshot(store, 1, entries) == "applied"
    assert store.snapshot_chunk(2, 1, 0, 2, _entries(range(10, 20))) == "partial"
    store._close()  # power cut in the middle of a snapshot: perm.db.new left behind
    again = PermStore(d)
    assert (again.status, again.version) == ("ok", 1)
    _assert_matches(again, entries)
    import os

    assert "perm.db.new" not in os.listdir(d)
    again.close()
    fwenv.remove_tree(d)


def test_new_file_that_reads_back_wrong_is_never_installed():
    # Simulates flash that garbles what was just written: the read-back check refuses the new file and the
    # live version keeps answering.
    d, store = _new_store()
    old = _entries(range(1, 8))
    assert fwenv.install_snapshot(store, 1, old) == "applied"
    real = permformat.pack_footer

    def garbled(*args):
        footer = bytearray(real(*args))
        footer[20] ^= 0xFF
        return bytes(footer)

    permformat.pack_footer = garbled
    try:
        assert fwenv.install_snapshot(store, 2, _entries(range(10, 20))) == "store_verify_failed"
        assert store.apply_delta(1, 2, [], [fwenv.fake_hash(1)]) == "store_verify_failed"
    finally:
        permformat.pack_footer = real
    assert (store.status, store.version, store.count) == ("ok", 1, 7)
    _assert_matches(store, old)
    import os

    assert sorted(os.listdir(d)) == ["perm.db"]
    _done(d, store)


# --- several records per credential (the exact union of its grants) ------------------------------------

def _set_of(n, count, role=0):
    """`count` entries of credential n in the wire order (differing validity starts)."""
    return [[fwenv.fake_hash(n), role, 1000 * (i + 1), 0, []] for i in range(count)]


def _records(store, n):
    key = permformat.entry_hash([fwenv.fake_hash(n)])
    first = store.find(key)
    out = []
    while first >= 0 and store.record(first + len(out), key):
        out.append([store.role, store.valid_from, store.valid_until, store.windows()])
    return out


def test_several_records_per_credential_in_wire_order():
    d, store = _new_store()
    h = fwenv.fake_hash(5)
    entries = _set_of(4, 1) + [
        [h, 0, 0, 0, [[1, 60, 120]]],
        [h, 0, 0, 0, [[1, 60, 120], [2, 0, 10]]],  # a window list after its own prefix
        [h, 0, 0, 0, [[2, 0, 10]]],
        [h, 0, 100, 0, []],
        [h, 1, 0, 0, []],
    ] + _set_of(6, 8)
    assert fwenv.install_snapshot(store, 1, entries, size=5) == "applied"  # a credential across chunks
    assert _records(store, 5) == [e[1:] for e in entries[1:6]]
    assert len(_records(store, 6)) == 8 and len(_records(store, 4)) == 1 and _records(store, 7) == []
    assert store.records_of(permformat.entry_hash([h])) == 5
    # the order within a credential is checked too, and at most 8 records each
    for bad, reason in (
        ([[h, 1, 0, 0, []], [h, 0, 0, 0, []]], "entries_not_sorted"),
        ([[h, 0, 5, 0, []], [h, 0, 5, 0, []]], "entries_not_sorted"),
        ([[h, 0, 0, 0, [[2, 0, 10]]], [h, 0, 0, 0, [[1, 60, 120]]]], "entries_not_sorted"),
        ([[h, 0, 0, 9, []], [h, 0, 0, 8, []]], "entries_not_sorted"),
        (_set_of(9, 9), "too_many_entries"),
    ):
        assert fwenv.install_snapshot(store, 2, bad, size=1) == reason, bad
        assert store.apply_delta(1, 2, bad, []) == reason, bad
    assert (store.version, store.count) == (1, len(entries))
    _done(d, store)


def test_delta_replaces_a_credentials_whole_set_and_deletes_all_of_it():
    d, store = _new_store()
    entries = _set_of(1, 3) + _set_of(2, 2) + _set_of(3, 4) + _set_of(4, 1)
    assert fwenv.install_snapshot(store, 1, entries) == "applied"
    new_two = [[fwenv.fake_hash(2), 1, 0, 0, [[0x1F, 480, 1080]]]]
    new_five = _set_of(5, 2)
    assert store.apply_delta(1, 2, new_two + new_five, [fwenv.fake_hash(3)]) == "applied"
    assert _records(store, 1) == [e[1:] for e in _set_of(1, 3)]
    assert _records(store, 2) == [e[1:] for e in new_two]  # both old records replaced by the one new
    assert _records(store, 3) == []  # every record deleted
    assert _records(store, 4) == [e[1:] for e in _set_of(4, 1)]
    assert _records(store, 5) == [e[1:] for e in new_five]
    assert store.count == 3 + 1 + 1 + 2
    # a hash both added and deleted is contradictory
    assert store.apply_delta(2, 3, _set_of(1, 1), [fwenv.fake_hash(1)]) == "delta_conflict"
    _done(d, store)


def test_version_floor_generation_and_unchanged_snapshot():
    d, store = _new_store()
    entries = _entries(range(1, 6))
    assert fwenv.install_snapshot(store, 5, entries, generation=2) == "applied"
    assert (store.version, store.generation) == (5, 2)
    assert fwenv.install_snapshot(store, 4, entries, generation=2) == "version_rollback"
    # the floor from elsewhere (the state file) counts as well
    assert store.snapshot_chunk(6, 2, 0, 1, entries, 7) == "version_rollback"
    # the live version again on a healthy store: acknowledged, nothing rewritten (not even its chunks read)
    with open(d + "/perm.db", "rb") as f:
        before = f.read()
    assert store.snapshot_chunk(5, 2, 0, 2, ["not even an entry"]) == "partial"
    assert store.snapshot_chunk(5, 2, 1, 2, []) == "unchanged"
    with open(d + "/perm.db", "rb") as f:
        assert f.read() == before
    # the same version under another key generation is a new table
    assert store.snapshot_chunk(5, 3, 0, 1, entries[:2]) == "applied"
    assert (store.version, store.generation, store.count) == (5, 3, 2)
    assert store.snapshot_chunk(5, 0, 0, 1, entries) == "bad_snapshot_chunk"
    reopened = PermStore(d)
    assert (reopened.version, reopened.generation) == (5, 3)
    reopened.close()
    _done(d, store)


def test_version_one_store_file_is_refused():
    # A store written by the v1 firmware (keyed by credential id, footer PSF1) is refused as a whole.
    d, store = _new_store()
    assert fwenv.install_snapshot(store, 1, _entries(range(1, 4))) == "applied"
    store.close()
    with open(d + "/perm.db", "r+b") as f:
        size = f.seek(0, 2)
        f.seek(size - permformat.FOOTER_SIZE)
        f.write(b"PSF1")
    store = PermStore(d)
    assert store.status == "corrupt" and store.find(permformat.entry_hash(_entries([1])[0])) == -1
    _done(d, store)


def test_room_needed_for_a_full_update():
    d, store = _new_store()
    empty = store.room_needed(1000, 4096)
    # 2 x 26,000 + 8,415 + 44 bytes in whole 4 KiB blocks, a side file and 2 blocks of metadata
    assert empty == (2 * 9 + 3 + 2) * 4096, empty
    for i in range(4):  # 200 records, 50 per chunk (made per chunk: a list of 200 would crowd the heap)
        result = store.snapshot_chunk(1, 1, i, 4, _entries(range(1 + 50 * i, 51 + 50 * i)))
    assert result == "applied" and store.count == 200
    assert store.room_needed(1000, 4096) == empty - 2 * 4096  # the live file takes 2 of those blocks
    assert store.room_needed(16, 4096) == (2 * 3 + 3 + 2 - 2) * 4096  # a full table of 16 is 8,875 B
    _done(d, store)
