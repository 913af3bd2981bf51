# Writes a new permission-store file record by record (in the wire order), then its schedule table and
# footer. Used by snapshot chunks and by delta merges; the caller renames the finished file onto the live
# name.
#
# Order is checked as records arrive: entries strictly increasing in (hash, role, from, until, windows), at
# most MAX_ENTRIES_PER_CRED consecutive records per hash. Records copied from the live file (a delta merge)
# are already in order; only their hashes are compared with what came before.
#
# RAM stays small and fixed whatever the table size: records go straight to the file, distinct window
# lists go to a side file (NAME.sch) as they first appear, and only their offsets and hashes are kept in
# two preallocated arrays (<= 255 entries, 1.5 KB). finish() appends the side file and the footer.
import array
import binascii

from core import fsutil
from core import permformat as fmt
from shared_schema.vocabulary import MAX_ENTRIES_PER_CRED


class WriteError(Exception):
    """str(error) is a reason code reported to the cloud (perm_ack err)."""


class TableWriter:
    def __init__(self, path):
        self.path = path
        self.count = 0
        self._crc = 0
        self._last = None  # hash of the last record
        self._last_entry = None  # the last record's wire entry (None: copied from the live file)
        self._run = 0  # records of that hash so far
        self._rec = bytearray(fmt.RECORD_SIZE)
        self._buf = bytearray(fmt.MAX_SCHEDULE_BYTES)
        self._offsets = array.array("H", bytes(2 * fmt.MAX_SCHEDULES))
        self._hashes = array.array("H", bytes(2 * fmt.MAX_SCHEDULES))
        self._nsched = 0
        self._table_len = 0
        self._recent = 0  # the last schedule matched: consecutive credentials often share one
        self._sched_path = path + ".sch"
        self._file = open(path, "wb")
        self._sched = open(self._sched_path, "w+b")

    def schedule_id(self, encoded):
        """Id of a window list in this file's schedule table (0 = any time), adding it if new."""
        if encoded[0] == 0:
            return 0
        key = hash(encoded) & 0xFFFF
        if self._recent and self._hashes[self._recent - 1] == key and self._same(self._recent, encoded):
            return self._recent
        for i in range(self._nsched):
            if self._hashes[i] == key and self._same(i + 1, encoded):
                self._recent = i + 1
                return i + 1
        if self._nsched >= fmt.MAX_SCHEDULES:
            raise WriteError("too_many_schedules")
        self._offsets[self._nsched] = self._table_len
        self._hashes[self._nsched] = key
        self._sched.seek(self._table_len)
        self._sched.write(encoded)
        self._table_len += len(encoded)
        self._nsched += 1
        self._recent = self._nsched
        return self._nsched

    def _same(self, sid, encoded):
        n = len(encoded)
        self._sched.seek(self._offsets[sid - 1])
        view = memoryview(self._buf)[:n]
        return self._sched.readinto(view) == n and view == encoded

    def add_record(self, key, role, schedule, valid_from, valid_until, entry=None):
        """Append one record whose schedule id this writer already assigned. `entry`: the wire entry it
        came from (its order is then checked in full), None for a record copied from a store file."""
        last = self._last
        if last is not None and key == last:
            # Records of one hash come either all from the wire (checked in full) or all from a store file.
            if (entry is None) != (self._last_entry is None):
                raise WriteError("entries_not_sorted")
            if entry is not None and not fmt.entry_follows(self._last_entry, entry):
                raise WriteError("entries_not_sorted")
            if self._run >= MAX_ENTRIES_PER_CRED:
                raise WriteError("too_many_entries")
            self._run += 1
        elif last is not None and key < last:
            raise WriteError("entries_not_sorted")
        else:
            self._run = 1
        fmt.pack_record(self._rec, key, role, schedule, valid_from, valid_until)
        self._write(self._rec)
        self._last = key
        self._last_entry = entry
        self.count += 1

    def add_entry(self, entry):
        """Append a wire entry [hash_hex, role, valid_from, valid_until, windows] after checking it."""
        error = fmt.entry_error(entry)
        if error:
            raise WriteError(error)
        sid = self.schedule_id(fmt.encode_windows(entry[4]))
        self.add_record(fmt.entry_hash(entry), entry[1], sid, entry[2], entry[3], entry)

    def _write(self, data):
        self._file.write(data)
        self._crc = binascii.crc32(data, self._crc)

    def finish(self, version, generation):
        """Write schedule table and footer and close: the file is complete and durable on return."""
        self._sched.seek(0)
        remaining = self._table_len
        while remaining > 0:
            n = self._sched.readinto(memoryview(self._buf)[: min(remaining, len(self._buf))])
            if not n:
                raise OSError("schedule table short")
            self._write(memoryview(self._buf)[:n])
            remaining -= n
        footer = fmt.pack_footer(version, generation, self.count, self._table_len, self._nsched, self._crc)
        self._file.write(footer)
        self._file.close()
        self._file = None
        self._close_sched()

    def _close_sched(self):
        if self._sched is not None:
            self._sched.close()
            self._sched = None
        fsutil.remove(self._sched_path)

    def abort(self):
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None
        try:
            self._close_sched()
        except OSError:
            pass


def remove_leftovers(path):
    """Delete the files of an update interrupted by a power cut or reboot."""
    fsutil.remove(path)
    fsutil.remove(path + ".sch")


