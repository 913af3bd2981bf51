# micropython-test heapsize=100K
# core.eventlog and core.state on the real MicroPython interpreter (host filesystem): seqs, batches, acks,
# the drop-oldest policy, torn and corrupted records, and counters that never go backwards.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import os

from tests.firmware import fwenv, fwflash

from core.eventlog import RECORD_SIZE, SEGMENT_RECORDS, EventLog
from core.state import EV_BLOCK, State
from shared_schema.vocabulary import MAX_EVENTS_PER_BATCH

CRED = b"\xab" * 16
SEG = 32  # records per segment in these tests: boundaries are crossed cheaply (the lock: SEGMENT_RECORDS)


def _open(d, capacity=1024, segment_records=SEG):
    state = State(d)
    return state, EventLog(d, state, capacity, segment_records=segment_records)


def _segments(d):
    return sorted(n for n in os.listdir(d) if n.startswith("ev"))


def test_seqs_batches_and_ack():
    d = fwenv.temp_dir()
    state, log = _open(d)
    total = MAX_EVENTS_PER_BATCH + 10
    for i in range(total):
        assert log.append("granted" if i % 2 else "door_open", 1800000000 + i, CRED if i % 2 else None,
                          "ok" if i % 2 else "door_sensor") == i + 1
    assert log.pending == total
    batch = log.read_batch()
    assert batch[0] == [1, 1800000000, "door_open", "", "door_sensor"]
    assert batch[1] == [2, 1800000001, "granted", "ab" * 16, "ok"]
    assert [e[0] for e in batch] == list(range(1, MAX_EVENTS_PER_BATCH + 1))
    # nothing is removed until acknowledged
    assert log.read_batch()[0][0] == 1
    assert log.ack(SEG + 3) == SEG + 3 and log.pending == total - SEG - 3
    assert [e[0] for e in log.read_batch()] == list(range(SEG + 4, total + 1))
    assert _segments(d) == ["ev00000001.log"]  # the fully acknowledged first segment is gone
    # acknowledging the past again changes nothing; beyond the last seq is capped at the last seq
    assert log.ack(12) == SEG + 3
    assert log.ack(10 ** 9) == total and log.pending == 0 and log.read_batch() == []
    fwenv.remove_tree(d)


def test_seq_survives_reboot_and_is_never_reused():
    d = fwenv.temp_dir()
    state, log = _open(d)
    for _ in range(3):
        log.append("granted", 0, CRED, "ok")
    assert log.ack(3) == 3 and _segments(d) == []  # every record gone: only state.bin remembers
    state, log = _open(d)  # reboot
    seq = log.append("boot", 0, None, "power_on")
    assert seq > 3, seq
    assert seq == EV_BLOCK + 1  # resumes above the reserved block
    assert log.read_batch() == [[seq, 0, "boot", "", "power_on"]]
    state, log = _open(d)
    assert log.append("boot", 0, None, "watchdog") > seq
    fwenv.remove_tree(d)


def test_full_log_drops_oldest_and_counts():
    d = fwenv.temp_dir()
    state, log = _open(d, capacity=2 * SEG)
    for _ in range(5 * SEG):
        log.append("denied", 0, CRED, "unknown_credential")
    assert len(_segments(d)) == 2
    assert log.dropped == 3 * SEG and log.pending == 2 * SEG
    batch = log.read_batch()
    assert batch[0][0] == 3 * SEG + 1  # the newest records are kept
    state, log = _open(d, capacity=2 * SEG)
    assert log.dropped == 3 * SEG  # persisted
    # acknowledged records are not counted as dropped when their segment goes
    log.ack(log.next_seq - 1)
    for _ in range(3 * SEG):
        log.append("denied", 0, CRED, "unknown_credential")
    assert log.dropped == 3 * SEG + SEG
    fwenv.remove_tree(d)


def test_torn_tail_is_discarded_and_appends_continue():
    d = fwenv.temp_dir()
    state, log = _open(d)
    for i in range(5):
        log.append("granted", 100 + i, CRED, "ok")
    tail = d + "/" + _segments(d)[-1]
    with open(tail, "ab") as f:
        f.write(b"\x06\x00\x00\x00\x99\x99")  # a power cut 6 bytes into record 6
    state, log = _open(d)
    assert [e[0] for e in log.read_batch()] == [1, 2, 3, 4, 5] and log.pending == 5
    seq = log.append("granted", 200, CRED, "ok")
    assert seq > 6
    assert [e[0] for e in log.read_batch()] == [1, 2, 3, 4, 5, seq]
    assert len(_segments(d)) == 2  # new records never follow a torn one
    fwenv.remove_tree(d)


def test_corrupted_record_is_skipped_alone():
    d = fwenv.temp_dir()
    state, log = _open(d)
    for i in range(6):
        log.append("granted", 100 + i, CRED, "ok")
    path = d + "/" + _segments(d)[0]
    with open(path, "r+b") as f:
        f.seek(2 * RECORD_SIZE + 5)
        f.write(b"\xee")  # record with seq 3 damaged
    state, log = _open(d)
    assert [e[0] for e in log.read_batch()] == [1, 2, 4, 5, 6]
    fwenv.remove_tree(d)


def test_unknown_reason_is_stored_as_other_and_bad_type_refused():
    d = fwenv.temp_dir()
    state, log = _open(d)
    log.append("tamper", 5, None, "something_new")
    assert log.read_batch() == [[1, 5, "tamper", "", "other"]]
    try:
        log.append("party", 5, None, "ok")
        raise AssertionError("unknown event type accepted")
    except ValueError:
        pass
    assert log.pending == 1
    fwenv.remove_tree(d)


def test_state_counters():
    d = fwenv.temp_dir()
    state = State(d)
    assert state.status == "missing"
    assert state.accept_downlink(5) and not state.accept_downlink(5) and not state.accept_downlink(4)
    assert [state.next_uplink() for _ in range(3)] == [1, 2, 3]
    state = State(d)
    assert state.status == "ok" and state.down_counter == 5
    assert state.next_uplink() > 3  # never reused after a reboot
    with open(d + "/state.bin", "r+b") as f:
        f.seek(6)
        f.write(b"\x55")
    assert State(d).status == "corrupt"
    fwenv.remove_tree(d)


def test_state_corrupt_log_still_never_reuses_seqs():
    d = fwenv.temp_dir()
    state, log = _open(d)
    for _ in range(10):
        log.append("granted", 0, CRED, "ok")
    with open(d + "/state.bin", "wb") as f:
        f.write(b"garbage")
    state, log = _open(d)
    assert state.status == "corrupt"
    assert log.append("boot", 0, None, "state_corrupt") == 11  # continues above the log's own records
    fwenv.remove_tree(d)


def test_full_filesystem_drops_oldest_and_keeps_logging():
    # A tiny LittleFS (12 KiB): the filesystem fills long before the log's capacity of 4096 records.
    # Segments of 16 records: one 512-byte block of this filesystem, as the lock's are one 4 KiB block.
    device = fwflash.CutDevice(512, 24)
    fwflash.umount("/tinyfs")
    fwflash.mount(device, "/tinyfs", fresh=True)
    try:
        state, log = _open("/tinyfs", capacity=4096, segment_records=16)
        for _ in range(600):
            log.append("granted", 0, CRED, "ok")
        assert log.dropped > 0 and log.pending + log.dropped == 600, (log.dropped, log.pending)
        assert log.read_batch()[0][0] == log.dropped + 1
        state, log = _open("/tinyfs", capacity=4096, segment_records=16)  # and it all survives a reboot
        assert log.pending + log.dropped == 600
        log.ack(599)
        assert [e[0] for e in log.read_batch()] == [600]  # the newest survived, in order
    finally:
        fwflash.umount("/tinyfs")


def test_a_segment_is_one_flash_block():
    assert SEGMENT_RECORDS * RECORD_SIZE == 4096  # the ESP32's LittleFS block
