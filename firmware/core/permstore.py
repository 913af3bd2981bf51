# The lock's permission store: which credential hashes may open the door, with role, validity and schedule.
#
# Versioned and replaced atomically: a snapshot (streamed in chunks) or a delta (merged with the current
# file) is written to perm.db.new, closed, read back and verified, then renamed onto perm.db. LittleFS
# renames are atomic, so a power cut leaves the old or the new version, each checked by CRCs when opened
# (core.permformat). A store that fails its checks is refused: every tap is denied until a snapshot
# arrives (the door stays locked for everyone it cannot verify).
#
# Lookup is a binary search on the open file (seek + readinto into preallocated buffers): O(log n) reads
# and no allocation that grows with the table.
#
# Updates are generators (snapshot_steps, delta_steps) that do a bounded amount of work between yields
# (_IO_RECORDS records), so the app can run them cooperatively: taps are decided from the live version
# while a merge or a verification runs, since nothing about the live version changes before the rename.
# snapshot_chunk / apply_delta run the same steps to the end in one call (tests, tools, boot).
import array
import binascii
import os
import struct

from micropython import const

from core import fsutil
from core import permformat as fmt
from core.permwriter import TableWriter, WriteError, remove_leftovers
from shared_schema.credentials import HASH_BYTES
from shared_schema.schedule import MAX_WINDOWS

FILE_NAME = "perm.db"
STATUS_MISSING = "missing"  # no store yet (fresh device): nobody is known
STATUS_OK = "ok"
STATUS_CORRUPT = "corrupt"  # refused: nobody can be verified until a snapshot is applied
_IO_RECORDS = const(20)  # records per read when verifying or merging (520-byte buffer)

RESULT_PARTIAL = "partial"  # snapshot chunk stored, more expected
RESULT_APPLIED = "applied"  # new version live
ERR_BASE_MISMATCH = "base_mismatch"  # delta does not apply to this version: the cloud must send a snapshot
ERR_BUSY = "store_busy"  # another update is under way (the app runs them one at a time)


class PermStore:
    def __init__(self, data_dir):
        self.path = fsutil.join(data_dir, FILE_NAME)
        self.new_path = self.path + ".new"
        self.status = STATUS_MISSING
        self.version = 0
        self.count = 0
        # Fields of the record found by the last successful lookup().
        self.role = 0
        self.valid_from = 0
        self.valid_until = 0
        self.schedule = 0
        self._file = None
        # Schedule table: offsets of each window list (read from the file on demand, never held whole).
        self._table_off = 0
        self._schedule_offsets = array.array("H", bytes(2 * fmt.MAX_SCHEDULES))
        self.schedules = 0
        self._sched_buf = bytearray(fmt.MAX_SCHEDULE_BYTES)
        self._key = bytearray(HASH_BYTES)
        self._rec = bytearray(fmt.RECORD_SIZE)
        self._io = bytearray(fmt.RECORD_SIZE * _IO_RECORDS)
        self._snap = None  # snapshot in progress: [writer, version, next_index, chunk_count]
        self._busy = False  # an update's steps are running (one at a time: they share _io and .new)
        # Called now and then during long passes over the file (verify, merge): the app feeds the watchdog
        # with it, since a delta merged into 50,000 records takes seconds on an ESP32.
        self.on_progress = None
        self.open()

    # --- opening and verifying --------------------------------------------------------------------

    def open(self):
        """(Re)open perm.db and verify it (in one go: boot, or recovery); sets status, version and count."""
        self._close()
        self.abort_snapshot()
        remove_leftovers(self.new_path)  # half-written update from before a power cut
        self.status, self.version, self.count, self.schedules = STATUS_MISSING, 0, 0, 0
        size = fsutil.size(self.path)
        if size < 0:
            return
        self._file = open(self.path, "rb")
        verified = finish(self._verify_steps(self._file, size, self._schedule_offsets))
        if verified is None:
            self._close()
            self.status = STATUS_CORRUPT
            return
        self.version, self.count, self._table_off, _, self.schedules = verified
        self.status = STATUS_OK

    def _verify_steps(self, f, size, offsets):
        """Steps checking the store file `f`; returns (version, count, table_off, table_len, nsets) or None.
        Fills `offsets` with the schedule table's index if given (None: only check the table)."""
        if size < fmt.FOOTER_SIZE:
            return None
        f.seek(size - fmt.FOOTER_SIZE)
        footer = fmt.unpack_footer(f.read(fmt.FOOTER_SIZE), size)
        if footer is None:
            return None
        version, count, table_off, table_len, nsets, body_crc = footer
        crc = yield from self._crc_steps(f, size - fmt.FOOTER_SIZE)
        if crc != body_crc or not self._index_schedules(f, table_off, table_len, nsets, offsets):
            return None
        return version, count, table_off, table_len, nsets

    def _index_schedules(self, f, table_off, table_len, nsets, offsets):
        # Walk the table: each window list is a count byte then count x 4 bytes (<= 255 short reads).
        count = memoryview(self._sched_buf)[:1]
        pos = 0
        for i in range(nsets):
            f.seek(table_off + pos)
            if pos >= table_len or f.readinto(count) != 1 or count[0] > MAX_WINDOWS:
                return False
            if offsets is not None:
                offsets[i] = pos
            pos += 1 + 4 * count[0]
        return pos == table_len

    def _crc_steps(self, f, length):
        # CRC32 of the first `length` bytes, one buffer per step; None if the file is shorter.
        crc = 0
        buf = memoryview(self._io)
        pos = 0
        while pos < length:
            f.seek(pos)  # a lookup between steps may have moved the position
            n = f.readinto(buf[: min(length - pos, len(buf))])
            if not n:
                return None
            crc = binascii.crc32(buf[:n], crc)
            pos += n
            self._progress()
            yield
        return crc

    def _progress(self):
        if self.on_progress is not None:
            self.on_progress()

    def _close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self):
        self.abort_snapshot()
        self._close()

    def updating(self):
        """True while an update's steps are under way (taps still see the live version)."""
        return self._busy

    # --- lookup (the tap path) ----------------------------------------------------------------------

    def lookup(self, key):
        """Find a 16-byte credential hash; True fills role/valid_from/valid_until/schedule."""
        if self.status != STATUS_OK or len(key) != HASH_BYTES:
            return False
        f, probe = self._file, self._key
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) >> 1
            f.seek(mid * fmt.RECORD_SIZE)
            if f.readinto(probe) != HASH_BYTES:
                return False
            if probe < key:
                lo = mid + 1
            elif probe == key:
                f.seek(mid * fmt.RECORD_SIZE)
                f.readinto(self._rec)
                _, self.role, self.schedule, self.valid_from, self.valid_until = struct.unpack_from(
                    fmt.RECORD_FORMAT, self._rec, 0
                )
                return True
            else:
                hi = mid
        return False

    def windows(self, schedule=None):
        """Window list ([[days, start, end], ...]) of a schedule id (default: the last lookup's)."""
        sid = self.schedule if schedule is None else schedule
        if sid == 0 or sid > self.schedules:
            return []
        return fmt.decode_windows(self._read_schedule(sid))

    def _read_schedule(self, sid):
        # Fills the preallocated buffer with one encoded window list (count byte first).
        buf = self._sched_buf
        self._file.seek(self._table_off + self._schedule_offsets[sid - 1])
        self._file.readinto(buf)  # may stop short at the footer; the count byte says what is valid
        return buf

    def _schedule_in(self, writer, remap, sid):
        """The writer's id for this file's schedule `sid` (copied over on first use)."""
        if sid == 0 or sid > self.schedules:
            return 0
        if not remap[sid]:
            buf = self._read_schedule(sid)
            remap[sid] = writer.schedule_id(bytes(buf[: 1 + 4 * buf[0]]))
        return remap[sid]

    # --- snapshot: chunk i of `of`, entries sorted by hash across all chunks ------------------------

    def snapshot_chunk(self, version, index, of, entries):
        """Store one chunk; returns RESULT_PARTIAL, RESULT_APPLIED or an error code (snapshot dropped)."""
        return finish(self.snapshot_steps(version, index, of, entries))

    def snapshot_steps(self, version, index, of, entries):
        """snapshot_chunk() as steps (a generator; its return value is the result)."""
        if self._busy:
            return ERR_BUSY
        self._busy = True
        completed = False
        try:
            result = yield from self._snapshot_chunk_steps(version, index, of, entries)
            completed = True
            return result
        finally:
            self._busy = False
            if not completed:  # abandoned half-way (task cancelled): the cloud starts the snapshot again
                self.abort_snapshot()
                remove_leftovers(self.new_path)

    def _snapshot_chunk_steps(self, version, index, of, entries):
        if not isinstance(entries, list) or not 0 <= index < of or version < 1:
            self.abort_snapshot()
            return "bad_snapshot_chunk"
        if index == 0:
            self.abort_snapshot()
            try:
                self._snap = [TableWriter(self.new_path), version, 0, of]
            except OSError:
                return "store_io_error"
        snap = self._snap
        if snap is None or snap[1] != version or snap[2] != index or snap[3] != of:
            self.abort_snapshot()
            return "snapshot_out_of_order"
        writer = snap[0]
        try:
            for i in range(len(entries)):
                writer.add_entry(entries[i])
                if i % _IO_RECORDS == _IO_RECORDS - 1:
                    yield
        except WriteError as exc:
            self.abort_snapshot()
            return str(exc)
        except OSError:  # flash full or failing: the old version stays live
            self.abort_snapshot()
            return "store_io_error"
        snap[2] = index + 1
        if index + 1 < of:
            return RESULT_PARTIAL
        self._snap = None
        return (yield from self._install_steps(writer, version))

    def abort_snapshot(self):
        if self._snap is not None:
            self._snap[0].abort()
            self._snap = None
            remove_leftovers(self.new_path)

    def snapshot_in_progress(self):
        return self._snap is not None

    # --- delta: merge sorted adds/deletes into a new file -------------------------------------------

    def apply_delta(self, base, version, adds, deletes):
        """Returns RESULT_APPLIED, ERR_BASE_MISMATCH (send a snapshot) or another error code."""
        return finish(self.delta_steps(base, version, adds, deletes))

    def delta_steps(self, base, version, adds, deletes):
        """apply_delta() as steps (a generator; its return value is the result)."""
        if self._busy:
            return ERR_BUSY
        if self.status == STATUS_CORRUPT or base != self.version:
            return ERR_BASE_MISMATCH
        if version <= base:
            return "bad_delta_version"
        error = _delta_error(adds, deletes)
        if error:
            return error
        self._busy = True
        self.abort_snapshot()
        writer = None
        completed = False
        try:
            writer = TableWriter(self.new_path)
            yield from self._merge_steps(writer, adds, [binascii.unhexlify(h) for h in deletes])
            result = yield from self._install_steps(writer, version)
            completed = True
            return result
        except (WriteError, OSError) as exc:
            completed = True
            if writer is not None:
                writer.abort()
            remove_leftovers(self.new_path)
            return str(exc) if isinstance(exc, WriteError) else "store_io_error"
        finally:
            self._busy = False
            if not completed:  # abandoned half-way: the live version was never touched
                if writer is not None:
                    writer.abort()
                remove_leftovers(self.new_path)

    def _merge_steps(self, writer, adds, deletes):
        ai = di = 0
        remap = bytearray(fmt.MAX_SCHEDULES + 1)  # old schedule id -> new id (0: not copied yet)
        add_key = fmt.entry_hash(adds[0]) if adds else None
        done = 0
        while done < self.count:
            n = min(self.count - done, _IO_RECORDS)
            f = self._file
            if f is None:
                raise OSError("store closed")
            f.seek(done * fmt.RECORD_SIZE)  # taps between steps move the live file's position
            if f.readinto(memoryview(self._io)[: n * fmt.RECORD_SIZE]) != n * fmt.RECORD_SIZE:
                raise OSError("short read")
            for j in range(n):
                rec = self._io[j * fmt.RECORD_SIZE : (j + 1) * fmt.RECORD_SIZE]
                key = bytes(rec[:HASH_BYTES])
                while add_key is not None and add_key <= key:
                    writer.add_entry(adds[ai])  # an add with an existing key replaces that record
                    ai += 1
                    replaced = add_key == key
                    add_key = fmt.entry_hash(adds[ai]) if ai < len(adds) else None
                    if replaced:
                        key = None
                        break
                if key is None:
                    continue
                while di < len(deletes) and deletes[di] < key:
                    di += 1
                if di < len(deletes) and deletes[di] == key:
                    continue
                _, role, sid, valid_from, valid_until = struct.unpack_from(fmt.RECORD_FORMAT, rec, 0)
                writer.add_record(key, role, self._schedule_in(writer, remap, sid), valid_from, valid_until)
            done += n
            self._progress()
            yield
        while ai < len(adds):
            writer.add_entry(adds[ai])
            ai += 1

    def _install_steps(self, writer, version):
        """Finish the new file, verify it as it reads back from flash (in steps: the live version keeps
        answering), then switch over atomically in one step."""
        try:
            writer.finish(version)
        except OSError:
            writer.abort()
            remove_leftovers(self.new_path)
            return "store_io_error"  # the live version was never touched
        verified = None
        try:
            size = fsutil.size(self.new_path)
            check = open(self.new_path, "rb")
            try:
                verified = yield from self._verify_steps(check, size, None)  # live offsets untouched
            finally:
                check.close()
        except OSError:
            verified = None
        if verified is None:
            remove_leftovers(self.new_path)  # the live version stays, untouched
            return "store_verify_failed"
        # From here on no yield: the rename is the single atomic switch-over (a power cut leaves the old or
        # the new file), and the live fields change together with it. Indexing the verified table is at
        # most 255 one-byte reads.
        version, count, table_off, table_len, nsets = verified
        try:
            self._close()
            os.rename(self.new_path, self.path)
            self._file = open(self.path, "rb")
            indexed = self._index_schedules(self._file, table_off, table_len, nsets, self._schedule_offsets)
        except OSError:
            indexed = False
        if not indexed:
            self.open()  # whichever complete version the flash holds now
            return "store_io_error"
        self.version, self.count, self._table_off, self.schedules = version, count, table_off, nsets
        self.status = STATUS_OK
        return RESULT_APPLIED


def finish(steps):
    """Run an update's steps to the end in one call; returns its result."""
    try:
        while True:
            next(steps)
    except StopIteration as done:
        return done.value


def _delta_error(adds, deletes):
    if not isinstance(adds, list) or not isinstance(deletes, list):
        return "bad_delta"
    previous = None
    for entry in adds:
        error = fmt.entry_error(entry)
        if error:
            return error
        if previous is not None and entry[0] <= previous:
            return "entries_not_sorted"
        previous = entry[0]
    previous = None
    for cred in deletes:
        if fmt.entry_error([cred, 0, 0, 0, []]):
            return "bad_delete_hash"
        if previous is not None and cred <= previous:
            return "deletes_not_sorted"
        previous = cred
    # Adding and deleting the same credential in one delta is contradictory: refuse rather than guess.
    ai = di = 0
    while ai < len(adds) and di < len(deletes):
        if adds[ai][0] == deletes[di]:
            return "delta_conflict"
        if adds[ai][0] < deletes[di]:
            ai += 1
        else:
            di += 1
    return None
