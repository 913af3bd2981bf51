# The lock's permission store: which table hashes may open the door, with role, validity and schedule
# (one or more records per credential). core.permread.PermReader is the live version (open, verify,
# lookup); this class adds the updates.
#
# Versioned and replaced atomically: a snapshot (streamed in chunks) or a delta (merged with the current
# file) is written to perm.db.new, closed, read back and verified, then renamed onto perm.db. LittleFS
# renames are atomic, so a power cut leaves the old or the new version, each checked by CRCs when opened.
#
# Updates are generators (snapshot_steps, delta_steps) that do a bounded amount of work between yields
# (IO_RECORDS records), so the app can run them cooperatively: taps are decided from the live version
# while a merge or a verification runs, since nothing about the live version changes before the rename.
# snapshot_chunk / apply_delta run the same steps to the end in one call (tests, tools).
#
# Versions never go back: a snapshot below max(live version, `floor`) is refused (version_rollback; the app
# passes the state's floor, so a lost store cannot be refilled with an old table), and a snapshot of the live
# version and generation on a healthy store is acknowledged without rewriting anything (RESULT_UNCHANGED).
import binascii
import os
import struct

from core import fsutil
from core import permformat as fmt
from core.permread import (  # noqa: F401 (the status names are re-exported for the store's users)
    IO_RECORDS,
    STATUS_CORRUPT,
    STATUS_MISSING,
    STATUS_OK,
    PermReader,
    finish,
)
from core.permwriter import TableWriter, WriteError, remove_leftovers
from shared_schema.credentials import HASH_BYTES
from shared_schema.vocabulary import MAX_ENTRIES_PER_CRED

RESULT_PARTIAL = "partial"  # snapshot chunk stored, more expected
RESULT_APPLIED = "applied"  # new version live
RESULT_UNCHANGED = "unchanged"  # a snapshot of the version already live: acknowledged, nothing rewritten
ERR_ROLLBACK = "version_rollback"  # a snapshot older than what this lock has held
ERR_BASE_MISMATCH = "base_mismatch"  # delta does not apply to this version: the cloud must send a snapshot
ERR_STORAGE = "storage_error"  # the flash failed (full, or failing): the live version stays
ERR_BUSY = "store_busy"  # another update is under way (the app runs them one at a time)


class PermStore(PermReader):
    def __init__(self, data_dir):
        # snapshot in progress: [writer (None: the live version, skipped), version, next_index, chunk_count,
        # generation]
        self._snap = None
        self._busy = False  # an update's steps are running (one at a time: they share _io and .new)
        super().__init__(data_dir)  # opens and verifies the live version

    def open(self):
        """(Re)open perm.db and verify it; an update cut short by a reboot or power cut is discarded."""
        self.abort_snapshot()
        remove_leftovers(self.new_path)
        super().open()

    def close(self):
        self.abort_snapshot()
        super().close()

    def room_needed(self, max_records, block):
        """Bytes the filesystem must keep free so that a table of `max_records` records can still be
        written beside a live one of that size (what the event log leaves alone). Counted in whole blocks:
        the live and the new file at their largest, the schedule side file, and two blocks for LittleFS
        metadata; minus what the store's files already take."""
        table = fmt.MAX_SCHEDULES * fmt.MAX_SCHEDULE_BYTES
        full = max_records * fmt.RECORD_SIZE + table + fmt.FOOTER_SIZE
        need = 2 * _blocks(full, block) + _blocks(table, block) + 2
        for path in (self.path, self.new_path, self.new_path + ".sch"):
            need -= _blocks(max(0, fsutil.size(path)), block)
        return max(0, need) * block

    def updating(self):
        """True while an update's steps are under way (taps still see the live version)."""
        return self._busy

    def _schedule_in(self, writer, remap, sid):
        """The writer's id for this file's schedule `sid` (copied over on first use)."""
        if sid == 0 or sid > self.schedules:
            return 0
        if not remap[sid]:
            buf = self._read_schedule(sid)
            remap[sid] = writer.schedule_id(bytes(buf[: 1 + 4 * buf[0]]))
        return remap[sid]

    # --- snapshot: chunk i of `of`, entries sorted by hash across all chunks ------------------------

    def snapshot_chunk(self, version, generation, index, of, entries, floor=0):
        """Store one chunk; returns RESULT_PARTIAL, RESULT_APPLIED, RESULT_UNCHANGED or an error code
        (snapshot dropped, live version kept)."""
        return finish(self.snapshot_steps(version, generation, index, of, entries, floor))

    def snapshot_steps(self, version, generation, index, of, entries, floor=0):
        """snapshot_chunk() as steps (a generator; its return value is the result)."""
        if self._busy:
            return ERR_BUSY
        self._busy = True
        completed = False
        try:
            result = yield from self._snapshot_chunk_steps(version, generation, index, of, entries, floor)
            completed = True
            return result
        finally:
            self._busy = False
            if not completed:  # abandoned half-way (task cancelled): the cloud starts the snapshot again
                self.abort_snapshot()
                remove_leftovers(self.new_path)

    def _snapshot_chunk_steps(self, version, generation, index, of, entries, floor):
        if not isinstance(entries, list) or not 0 <= index < of or version < 1 or generation < 1:
            self.abort_snapshot()
            return "bad_snapshot_chunk"
        if index == 0:
            self.abort_snapshot()
            if version < max(self.version, floor):
                return ERR_ROLLBACK
            writer = None
            if version != self.version or generation != self.generation or self.status != STATUS_OK:
                try:
                    writer = TableWriter(self.new_path)
                except OSError:
                    return ERR_STORAGE
            self._snap = [writer, version, 0, of, generation]
        snap = self._snap
        if snap is None or snap[1] != version or snap[2] != index or snap[3] != of or snap[4] != generation:
            self.abort_snapshot()
            return "snapshot_out_of_order"
        writer = snap[0]
        if writer is not None:
            try:
                for i in range(len(entries)):
                    writer.add_entry(entries[i])
                    if i % IO_RECORDS == IO_RECORDS - 1:
                        yield
            except WriteError as exc:
                self.abort_snapshot()
                return str(exc)
            except OSError:  # flash full or failing: the old version stays live
                self.abort_snapshot()
                return ERR_STORAGE
        snap[2] = index + 1
        if index + 1 < of:
            return RESULT_PARTIAL
        self._snap = None
        if writer is None:
            return RESULT_UNCHANGED
        return (yield from self._install_steps(writer, version, generation))

    def abort_snapshot(self):
        if self._snap is not None:
            if self._snap[0] is not None:
                self._snap[0].abort()
            self._snap = None
            remove_leftovers(self.new_path)

    def snapshot_in_progress(self):
        return self._snap is not None

    # --- delta: merge sorted adds/deletes into a new file -------------------------------------------
    # The adds of one hash are its complete new set (they replace every record of it); a delete removes
    # every record of a hash. The generation stays the live one (the app refuses a delta of another).

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
            result = yield from self._install_steps(writer, version, self.generation)
            completed = True
            return result
        except (WriteError, OSError) as exc:
            completed = True
            if writer is not None:
                writer.abort()
            remove_leftovers(self.new_path)
            return str(exc) if isinstance(exc, WriteError) else ERR_STORAGE
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
        dropping = None  # hash whose live records are being skipped (replaced by adds, or deleted)
        done = 0
        while done < self.count:
            n = min(self.count - done, IO_RECORDS)
            f = self._file
            if f is None:
                raise OSError("store closed")
            f.seek(done * fmt.RECORD_SIZE)  # taps between steps move the live file's position
            if f.readinto(memoryview(self._io)[: n * fmt.RECORD_SIZE]) != n * fmt.RECORD_SIZE:
                raise OSError("short read")
            for j in range(n):
                rec = self._io[j * fmt.RECORD_SIZE : (j + 1) * fmt.RECORD_SIZE]
                key = bytes(rec[:HASH_BYTES])
                if key == dropping:
                    continue
                while add_key is not None and add_key <= key:
                    if add_key == key:
                        dropping = key  # this credential's new set replaces all of its records
                    writer.add_entry(adds[ai])
                    ai += 1
                    add_key = fmt.entry_hash(adds[ai]) if ai < len(adds) else None
                if key == dropping:
                    continue
                while di < len(deletes) and deletes[di] < key:
                    di += 1
                if di < len(deletes) and deletes[di] == key:
                    dropping = key
                    continue
                _, role, sid, valid_from, valid_until = struct.unpack_from(fmt.RECORD_FORMAT, rec, 0)
                writer.add_record(key, role, self._schedule_in(writer, remap, sid), valid_from, valid_until)
            done += n
            self._progress()
            yield
        while ai < len(adds):
            writer.add_entry(adds[ai])
            ai += 1

    def _install_steps(self, writer, version, generation):
        """Finish the new file, verify it as it reads back from flash (in steps: the live version keeps
        answering), then switch over atomically in one step."""
        try:
            writer.finish(version, generation)
        except OSError:
            writer.abort()
            remove_leftovers(self.new_path)
            return ERR_STORAGE  # the live version was never touched
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
        version, generation, count, table_off, table_len, nsets = verified
        try:
            self._close()
            os.rename(self.new_path, self.path)
            self._file = open(self.path, "rb")
            indexed = self._index_schedules(self._file, table_off, table_len, nsets, self._schedule_offsets)
        except OSError:
            indexed = False
        if not indexed:
            self.open()  # whichever complete version the flash holds now
            return ERR_STORAGE
        self.version, self.generation, self.count = version, generation, count
        self._table_off, self.schedules = table_off, nsets
        self.status = STATUS_OK
        return RESULT_APPLIED


def _blocks(size, block):
    return (size + block - 1) // block


def _delta_error(adds, deletes):
    if not isinstance(adds, list) or not isinstance(deletes, list):
        return "bad_delta"
    previous = None
    run = 0
    for entry in adds:
        error = fmt.entry_error(entry)
        if error:
            return error
        if previous is not None and not fmt.entry_follows(previous, entry):
            return "entries_not_sorted"
        run = run + 1 if previous is not None and entry[0] == previous[0] else 1
        if run > MAX_ENTRIES_PER_CRED:
            return "too_many_entries"
        previous = entry
    previous = None
    for cred in deletes:
        if fmt.hash_bytes(cred) is None:
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
