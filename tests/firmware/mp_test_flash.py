# micropython-test heapsize=1M
# The flash as the ESP32 has it: LittleFS v2 (vfs.VfsLfs2) with 4 KiB blocks on a RAM block device.
# - a log segment is one block, so the log's capacity in records is what it spends on flash;
# - the log never takes the room the permission store needs for a full update (config max_credentials);
# - a flash that refuses every write refuses each message with storage_error and never stops the lock.
# heapsize 1M: the RAM "flash" (up to 256 KB) and LittleFS caches live in the heap here.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import gc
import os

from tests.firmware import fwapp, fwenv, fwflash, fwhw

from core.app import LockApp
from core.eventlog import RECORD_SIZE, SEGMENT_RECORDS, EventLog
from core.state import State

POINT = "/fwflash"
BLOCK = 4096


def _mount(blocks):
    fwflash.umount(POINT)
    device = fwflash.CutDevice(BLOCK, blocks)
    fwflash.mount(device, POINT, fresh=True)
    return device


def _free_blocks():
    return os.statvfs(POINT)[3]


def _unmount(device):
    fwflash.umount(POINT)
    device.dead = True
    gc.collect()


def test_a_full_log_takes_one_block_per_segment():
    device = _mount(64)
    try:
        before = _free_blocks()
        state = State(POINT)
        log = EventLog(POINT, state, 8 * SEGMENT_RECORDS)
        for i in range(8 * SEGMENT_RECORDS):
            log.append("granted", 1795392000 + i, b"\x5a" * 16, "ok")
        used = before - _free_blocks()
        segments = [n for n in os.listdir(POINT) if n.startswith("ev")]
        sizes = [os.stat(POINT + "/" + n)[6] for n in segments]
        print("log of %d records: %d segments of %d B, %d filesystem blocks (with state.bin and metadata)"
              % (8 * SEGMENT_RECORDS, len(segments), sizes[0], used))
        assert len(segments) == 8 and sizes == [SEGMENT_RECORDS * RECORD_SIZE] * 8 == [BLOCK] * 8
        assert used <= 8 + 2, used  # one block per segment, plus at most two of metadata
        # full: the next record drops the oldest segment, the blocks used stay the same
        log.append("granted", 0, None, "ok")
        assert log.dropped == SEGMENT_RECORDS and before - _free_blocks() <= used
    finally:
        _unmount(device)


def _snapshot(app, version, count):
    # A whole table of `count` records, made chunk by chunk (as it arrives).
    parts = (count + 15) // 16
    result = None
    for i in range(parts):
        chunk = [[fwenv.fake_hash(n), 0, 0, 0, []] for n in range(16 * i, min(count, 16 * i + 16))]
        result = app.store.snapshot_chunk(version, 1, i, parts, chunk)
    return result


def test_the_log_never_takes_the_room_of_a_full_store_update():
    device = _mount(48)  # 192 KiB: 46 blocks usable after LittleFS's superblocks
    try:
        config = dict(fwapp.CONFIG, max_credentials=1000, event_log_capacity=4096)  # the log alone: 32 blocks
        app = LockApp(fwhw.FakeHardware(POINT, now=fwapp.NOW), config)
        reserve = app.store.room_needed(1000, BLOCK)
        assert reserve == 23 * BLOCK  # 2 x 9 blocks for the live and new file, 3 for the side file, 2 spare
        for _ in range(3000):
            app.record("door_open", None, "door_sensor")
        log_blocks = len([n for n in os.listdir(POINT) if n.startswith("ev")])
        print("log capacity 4096 records in 192 KiB with room kept for 1000 records: %d segments kept, "
              "%d records dropped, %d blocks free" % (log_blocks, app.log.dropped, _free_blocks()))
        assert app.log.dropped > 0 and log_blocks < 24  # far below its capacity of 32 segments
        assert _free_blocks() * BLOCK >= reserve
        # the store can still be filled to its maximum, and replaced by a new full table beside it
        assert _snapshot(app, 1, 1000) == "applied"
        assert _snapshot(app, 2, 1000) == "applied" and app.store.count == 1000
        for _ in range(300):  # and the log keeps going, around the store
            app.record("door_open", None, "door_sensor")
        assert app.log.pending > 0 and _free_blocks() * BLOCK >= app.store.room_needed(1000, BLOCK)
        assert _snapshot(app, 3, 1000) == "applied"
        app.store.close()
    finally:
        _unmount(device)


def test_a_flash_that_refuses_writes_refuses_messages_and_never_stops_the_lock():
    device = _mount(32)
    try:
        hw, app = fwapp.make_app(data_dir=POINT)
        ack_before = app.state.ev_acked
        device.budget = device.written  # from now on every write fails
        assert app.handle_tap("iso14443a", fwenv.uid(1)).granted  # the door still works...
        assert hw.reports_of("error")[-1]["where"] == "event_log"  # ...and the lost event is reported
        assert app.handle_tap("iso14443a", fwenv.uid(4)).reason == "expired"
        error = "storage_error"
        assert fwapp.send_snapshot(app, 2)["err"] == error
        delta = {"base": 1, "ver": 2, "g": 1, "add": [], "del": [fwenv.table_hash(1)]}
        assert fwapp.run(app.apply_delta(delta)) == {"ver": 1, "ok": False, "err": error}
        config = {"ver": 9, "mode": "lockdown", "passage": [], "unlock_s": 5, "held_s": 30}
        assert app.apply_config(config) == {"ver": 0, "ok": False, "err": error}
        assert app.site.mode == "normal" and app.site.ver == 0  # nothing changed
        assert app.apply_time(fwapp.NOW + 5, fwapp.UTC, fwapp.UNTIL) == error
        assert app.apply_rekey(2, bytes(range(32, 64))) == error and app.keys.newest() == 1
        moves = len(hw.actuator.moves)
        assert app.remote("c-1", "unlock") == {"id": "c-1", "ok": False, "err": error}
        assert len(hw.actuator.moves) == moves  # not executed: it could not be made one-shot
        assert app.ack_events(10) == ack_before
        counter = app.state.down_counter
        try:
            app.state.accept_downlink(counter + 1)
            raise AssertionError("a downlink counter was accepted without being persisted")
        except OSError:
            pass
        assert app.state.down_counter == counter
        assert app.hello_payload()["pv"] == 1 and app.state_payload()["pv"] == 1
        for _ in range(50):
            hw.time.ms += 50
            hw.rtc.value += 120  # the hourly floor refresh fails quietly too
            app.step()
        # a reboot on the failing flash: the lock comes up and decides from what it can read
        hw2 = fwhw.FakeHardware(POINT, now=hw.rtc.value)
        app2 = LockApp(hw2, fwapp.CONFIG)
        assert app2.handle_tap("iso14443a", fwenv.uid(1)).granted
        assert app2.handle_tap("iso14443a", fwenv.uid(999)).reason == "unknown_credential"
        # writes work again: so does everything else
        device.budget = None
        assert app2.remote("c-2", "lock") == {"id": "c-2", "ok": True}
        assert app2.apply_config(config) == {"ver": 9, "ok": True}
        app.store.close()
        app2.store.close()
    finally:
        _unmount(device)
