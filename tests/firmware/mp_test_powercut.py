# micropython-test heapsize=1M
# Power cuts on the real LittleFS v2 (vfs.VfsLfs2) over a RAM block device that stops writing after N bytes.
# For every write call of a store update and of a run of log appends, the power is cut before it, half-way
# through it and right after it (plus a fixed stride over the whole range); then the filesystem is mounted
# again and the store must be exactly the old or exactly the new version, and the log must have lost at
# most the record being written, without ever reusing a seq.
# heapsize 1M: the RAM "flash" (48 KB), its pristine image and LittleFS caches live in the heap here.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import gc

from tests.firmware import fwenv, fwflash

from core.eventlog import EventLog
from core.permformat import entry_hash
from core.permstore import PermStore
from core.state import State

POINT = "/pcut"
SEG = 32  # log segment records here: two boundaries within 70 appends (the lock's are 128, one 4 KiB block)
STORE_STRIDE = 5  # bytes between cut points, on top of every write call's start, middle and end
LOG_STRIDE = 61


def _entry(n, variant=0):
    windows = [[0x1F, 480 + variant, 1080]] if n % 3 == 0 else ([[0x60, 1320, 120]] if n % 3 == 1 else [])
    return [fwenv.fake_hash(n), (n + variant) % 2, variant * 100, 0, windows]


OLD = [_entry(n) for n in range(0, 60)]
NEW = sorted([_entry(n, 1) for n in range(30, 100)], key=lambda e: e[0])
DELTA_ADDS = sorted([_entry(n, 2) for n in (3, 30, 31, 70, 71)], key=lambda e: e[0])
DELTA_DELS = sorted([fwenv.fake_hash(n) for n in (0, 5, 23, 59)])


def _after_delta():
    dropped = set(DELTA_DELS) | set(e[0] for e in DELTA_ADDS)
    return sorted([e for e in OLD if e[0] not in dropped] + DELTA_ADDS, key=lambda e: e[0])


def _fresh_device():
    fwflash.umount(POINT)  # in case an earlier failing test left it mounted
    device = fwflash.CutDevice(512, 96)
    fwflash.mount(device, POINT, fresh=True)
    return device


def _cut_points(boundaries, total, stride):
    points = set(range(0, total + 1, stride))
    previous = 0
    for end in boundaries:
        points.add(previous)  # nothing of this write lands
        points.add((previous + end) // 2)  # torn half-way
        points.add(end - 1)  # torn at the last byte
        points.add(end)  # this write complete, the next one lost
        previous = end
    points.add(total)
    return sorted(points)


def _quietly(close):
    # After a cut the flash refuses writes; closing may fail like everything else then.
    try:
        close()
    except OSError:
        pass


def _run_with_cuts(image, operation, check, stride):
    """Record one uncut run of `operation`, then replay it with the power cut at every chosen byte.
    Each run gets its own device object over the same RAM, reset to `image`; the previous one is marked
    dead."""
    flash = bytearray(image)
    device = fwflash.CutDevice(512, 96, flash)
    device.boundaries = []
    fwflash.mount(device, POINT)
    operation([0])
    fwflash.umount(POINT)
    device.dead = True
    boundaries, total = device.boundaries, device.written
    outcomes = {}
    points = _cut_points(boundaries, total, stride)
    at_cut = bytearray(len(image))
    for budget in points:
        flash[:] = image
        device = fwflash.CutDevice(512, 96, flash)
        device.budget = budget
        fwflash.mount(device, POINT)
        progress = [0]
        try:
            operation(progress)
        except OSError:
            pass  # the power went out
        # Freeze the flash as the cut left it. Files the interrupted code left open are then finalised
        # with writes allowed (so they finish quietly), and their late writes are thrown away.
        at_cut[:] = flash
        device.budget = None
        fwflash.umount(POINT)
        gc.collect()
        device.dead = True
        flash[:] = at_cut
        device = fwflash.CutDevice(512, 96, flash)
        fwflash.mount(device, POINT)  # power back: boot again
        outcome = check(progress[0], budget)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        fwflash.umount(POINT)
        device.dead = True
        device = None
        gc.collect()
    print("power cuts at %d points over %d bytes in %d writes: %s" % (len(points), total, len(boundaries),
                                                                       outcomes))
    return outcomes


def _assert_store(store, entries, gone):
    for entry in entries:
        assert store.lookup(entry_hash(entry)), entry[0]
        assert [store.role, store.valid_from, store.valid_until, store.windows()] == entry[1:]
    for cred in gone:
        assert not store.lookup(entry_hash([cred]))


def _store_image():
    device = _fresh_device()
    store = PermStore(POINT)
    assert fwenv.install_snapshot(store, 1, OLD) == "applied"
    store.close()
    fwflash.umount(POINT)
    device.dead = True
    return bytes(device.data)


def _check_store(new_version, new_entries):
    old_keys = [e[0] for e in OLD]
    new_keys = [e[0] for e in new_entries]

    def check(_progress, budget):
        store = PermStore(POINT)
        assert store.status == "ok", (budget, store.status)
        if store.version == 1:
            _assert_store(store, OLD, [k for k in new_keys if k not in old_keys])
        else:
            assert store.version == new_version, budget
            _assert_store(store, new_entries, [k for k in old_keys if k not in new_keys])
        # the survivor accepts the next update
        result = store.apply_delta(store.version, 50, [], [])
        assert result == "applied", result
        store.close()
        return "v%d" % store.version if store.version != 50 else "ok"

    return check


def test_power_cut_during_snapshot_leaves_old_or_new_version():
    image = _store_image()
    versions = {}

    def operation(progress):
        store = PermStore(POINT)
        try:
            result = fwenv.install_snapshot(store, 2, NEW)
        finally:
            _quietly(store.close)
        if result != "applied":
            raise OSError(result)

    def check(progress, budget):
        store = PermStore(POINT)
        versions[store.version] = versions.get(store.version, 0) + 1
        store.close()
        return _check_store(2, NEW)(progress, budget)

    _run_with_cuts(image, operation, check, STORE_STRIDE)
    print("store versions after the cuts:", versions)
    assert versions.get(1) and versions.get(2), versions  # both sides of the switch-over were exercised


def test_power_cut_during_delta_leaves_old_or_new_version():
    image = _store_image()
    expected = _after_delta()
    versions = {}

    def operation(progress):
        store = PermStore(POINT)
        try:
            result = store.apply_delta(1, 2, DELTA_ADDS, DELTA_DELS)
        finally:
            _quietly(store.close)
        if result != "applied":
            raise OSError(result)  # storage_error: the store caught the power cut and reported it

    def check(progress, budget):
        store = PermStore(POINT)
        versions[store.version] = versions.get(store.version, 0) + 1
        store.close()
        return _check_store(2, expected)(progress, budget)

    _run_with_cuts(image, operation, check, STORE_STRIDE)
    print("store versions after the cuts:", versions)
    assert versions.get(1) and versions.get(2), versions


# --- event log ----------------------------------------------------------------------------------------------

INITIAL = 5
APPENDS = 70  # crosses two 32-record segment boundaries and a seq reservation block
ACK_AFTER = 40  # after this many appends, acknowledge up to the ACK_INDEX-th appended event
ACK_INDEX = 9
RECORDED = []  # seqs handed out to the appends in the uncut run (a reboot skips to the reserved mark)


def _event(i):
    # The i-th event ever appended (0-based): ts and reason derive from i so contents can be checked.
    cred = bytes([i & 0xFF]) * 16 if i % 2 else None
    return ("granted" if i % 3 else "denied", 1700000000 + i, cred, "ok" if i % 3 else "unknown_credential")


def _log_image():
    device = _fresh_device()
    state = State(POINT)
    log = EventLog(POINT, state, 256, segment_records=SEG)
    for i in range(INITIAL):
        assert log.append(*_event(i)) == i + 1
    fwflash.umount(POINT)
    device.dead = True
    return bytes(device.data)


def _log_operation(progress):
    log = EventLog(POINT, State(POINT), 256, segment_records=SEG)
    seqs = []
    for j in range(APPENDS):
        seqs.append(log.append(*_event(INITIAL + j)))
        progress[0] += 1
        if progress[0] == ACK_AFTER:
            log.ack(seqs[ACK_INDEX])
    if not RECORDED:
        RECORDED.extend(seqs)


def _check_log(done, budget):
    all_seqs = list(range(1, INITIAL + 1)) + RECORDED
    ack_target = RECORDED[ACK_INDEX]
    state = State(POINT)
    assert state.status == "ok", budget
    reserved = state.ev_reserved  # as the cut left it (opening the log reserves the next block)
    log = EventLog(POINT, state, 256, segment_records=SEG)
    acked = state.ev_acked
    assert acked == 0 or (acked == ack_target and done >= ACK_AFTER), (budget, acked, done)
    if done > ACK_AFTER:
        assert acked == ack_target, budget
    got = [e[0] for e in log.read_batch(1000)]
    # Survivors: everything appended before the cut (minus what was acknowledged), and maybe the record
    # that was being written; nothing else lost, nothing out of order.
    lost = [s for s in all_seqs[: INITIAL + done] if s > acked]
    kept = [s for s in all_seqs[: INITIAL + done + 1] if s > acked]
    assert got in (lost, kept), (budget, done, got)
    for seq, ts, kind, cred, reason in log.read_batch(1000):
        want_kind, want_ts, want_cred, want_reason = _event(all_seqs.index(seq))
        assert (ts, kind, reason) == (want_ts, want_kind, want_reason), seq
        assert cred == ("" if want_cred is None else fwenv.binascii.hexlify(want_cred).decode())
    assert log.pending == len(got)
    # Never reuse a seq: the next one is above every completed append, and above the one in flight
    # whenever that one may have reached flash (its record is only written once its reservation is
    # durable, so a reservation that did not survive means its record was never started).
    completed = all_seqs[INITIAL + done - 1]
    in_flight = all_seqs[INITIAL + done] if INITIAL + done < len(all_seqs) else None
    seq = log.append("boot", 0, None, "power_on")
    assert seq > completed and seq not in got, (budget, seq)
    if in_flight is not None and (in_flight in got or reserved >= in_flight):
        assert seq > in_flight, (budget, seq, in_flight)
    assert log.read_batch(1000)[-1][0] == seq
    return "in_flight_lost" if got == lost and got != kept else "in_flight_kept"


def test_power_cut_during_log_appends_loses_at_most_the_record_in_flight():
    outcomes = _run_with_cuts(_log_image(), _log_operation, _check_log, LOG_STRIDE)
    assert outcomes.get("in_flight_lost") and outcomes.get("in_flight_kept"), outcomes


# A full log (capacity 2 segments) dropping its oldest segments while the power is cut.
RECORDED_FULL = []


def _full_log_image():
    device = _fresh_device()
    log = EventLog(POINT, State(POINT), 2 * SEG, segment_records=SEG)
    for i in range(INITIAL):
        log.append(*_event(i))
    fwflash.umount(POINT)
    device.dead = True
    return bytes(device.data)


def _full_log_operation(progress):
    log = EventLog(POINT, State(POINT), 2 * SEG, segment_records=SEG)
    seqs = []
    for j in range(APPENDS):
        seqs.append(log.append(*_event(INITIAL + j)))
        progress[0] += 1
    if not RECORDED_FULL:
        RECORDED_FULL.extend(seqs)


def _check_full_log(done, budget):
    all_seqs = list(range(1, INITIAL + 1)) + RECORDED_FULL
    state = State(POINT)
    assert state.status == "ok", budget
    dropped = state.ev_dropped
    log = EventLog(POINT, state, 2 * SEG, segment_records=SEG)
    got = [e[0] for e in log.read_batch(1000)]
    completed = all_seqs[: INITIAL + done]  # the INITIAL records were complete before the cut
    # What is left is the newest part of what was written, in order: only the oldest records are ever dropped,
    # and at most the record in flight is missing at the end.
    assert got, budget
    start = all_seqs.index(got[0])
    assert got == all_seqs[start : start + len(got)], (budget, got)
    in_flight = all_seqs[INITIAL + done] if INITIAL + done < len(all_seqs) else None
    assert got[-1] in (completed[-1], in_flight), (budget, got[-1])
    # Every record gone from the front was counted as dropped (a loss may be over-counted, never hidden).
    assert start <= dropped, (budget, start, dropped)
    assert len(got) <= 2 * SEG
    return "dropped_%d" % (dropped // SEG)


def test_power_cut_while_a_full_log_drops_its_oldest_records():
    outcomes = _run_with_cuts(_full_log_image(), _full_log_operation, _check_full_log, LOG_STRIDE)
    assert len(outcomes) >= 2, outcomes  # cuts before and after drops were exercised
