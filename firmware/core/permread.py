# The live version of the permission store (perm.db): opening and verifying it, and lookups (the tap path).
# core.permstore.PermStore adds the updates (snapshot chunks, deltas) on top of this class.
#
# A store file that fails its checks (core.permformat: footer CRC, sizes, body CRC, schedule table) is
# refused as a whole: every tap is denied until a snapshot arrives (the door stays locked for everyone it
# cannot verify). Lookup is a binary search on the open file for the first record of a table hash (seek +
# readinto into preallocated buffers): O(log n) reads and no allocation that grows with the table; the
# credential's other records follow it (at most MAX_ENTRIES_PER_CRED), read one at a time.
import array
import binascii
import struct

from micropython import const

from core import fsutil
from core import permformat as fmt
from shared_schema.credentials import HASH_BYTES
from shared_schema.schedule import MAX_WINDOWS
from shared_schema.vocabulary import MAX_ENTRIES_PER_CRED

FILE_NAME = "perm.db"
STATUS_MISSING = "missing"  # no store yet (fresh device): nobody is known
STATUS_OK = "ok"
STATUS_CORRUPT = "corrupt"  # refused: nobody can be verified until a snapshot is applied
_FIELDS_FORMAT = "<BBII"  # role, schedule, valid_from, valid_until (permformat.RECORD_FORMAT after the hash)
IO_RECORDS = const(20)  # records per read when verifying or merging (520-byte buffer), and per update step


class PermReader:
    def __init__(self, data_dir):
        self.path = fsutil.join(data_dir, FILE_NAME)
        self.new_path = self.path + ".new"
        self.status = STATUS_MISSING
        self.version = 0
        self.generation = 0  # key generation whose K_table made the table hashes (0: no table)
        self.count = 0
        # Fields of the record read by the last successful record() / lookup().
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
        self._fields = memoryview(self._rec)[HASH_BYTES:]  # a record's fields after its hash
        self._io = bytearray(fmt.RECORD_SIZE * IO_RECORDS)
        # Called now and then during long passes over the file (verify, merge): the app feeds the watchdog
        # with it, since a delta merged into 50,000 records takes seconds on an ESP32.
        self.on_progress = None
        self.open()

    # --- opening and verifying --------------------------------------------------------------------

    def open(self):
        """(Re)open perm.db and verify it (in one go: boot, or recovery); sets status, version and count."""
        self._close()
        self.status, self.version, self.generation, self.count, self.schedules = STATUS_MISSING, 0, 0, 0, 0
        size = fsutil.size(self.path)
        if size < 0:
            return
        self._file = open(self.path, "rb")
        verified = finish(self._verify_steps(self._file, size, self._schedule_offsets))
        if verified is None:
            self._close()
            self.status = STATUS_CORRUPT
            return
        self.version, self.generation, self.count, self._table_off, _, self.schedules = verified
        self.status = STATUS_OK

    def _verify_steps(self, f, size, offsets):
        """Steps checking the store file `f`; returns (version, generation, count, table_off, table_len,
        nsets) or None.
        Fills `offsets` with the schedule table's index if given (None: only check the table)."""
        if size < fmt.FOOTER_SIZE:
            return None
        f.seek(size - fmt.FOOTER_SIZE)
        footer = fmt.unpack_footer(f.read(fmt.FOOTER_SIZE), size)
        if footer is None:
            return None
        version, generation, count, table_off, table_len, nsets, body_crc = footer
        crc = yield from self._crc_steps(f, size - fmt.FOOTER_SIZE)
        if crc != body_crc or not self._index_schedules(f, table_off, table_len, nsets, offsets):
            return None
        return version, generation, count, table_off, table_len, nsets

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
        self._close()

    # --- lookup (the tap path) ----------------------------------------------------------------------

    def find(self, key):
        """Index of the first record of the 16-byte table hash `key`, or -1 (binary search)."""
        if self.status != STATUS_OK or len(key) != HASH_BYTES:
            return -1
        f, probe = self._file, self._key
        lo, hi = 0, self.count
        while lo < hi:  # the first index whose hash is >= key
            mid = (lo + hi) >> 1
            f.seek(mid * fmt.RECORD_SIZE)
            if f.readinto(probe) != HASH_BYTES:
                return -1
            if probe < key:
                lo = mid + 1
            else:
                hi = mid
        return lo if self.record(lo, key) else -1

    def record(self, index, key):
        """Read record `index` if it belongs to `key`: True fills role/valid_from/valid_until/schedule."""
        if index < 0 or index >= self.count:
            return False
        f = self._file
        f.seek(index * fmt.RECORD_SIZE)
        # The hash into its own buffer first: a bytearray compares with bytes without allocating.
        if f.readinto(self._key) != HASH_BYTES or self._key != key:
            return False
        if f.readinto(self._fields) != fmt.RECORD_SIZE - HASH_BYTES:
            return False
        self.role, self.schedule, self.valid_from, self.valid_until = struct.unpack_from(
            _FIELDS_FORMAT, self._rec, HASH_BYTES
        )
        return True

    def lookup(self, key):
        """True (fields of its first record filled) if `key` has a record; see find() and record()."""
        return self.find(key) >= 0

    def records_of(self, key):
        """Number of records of `key` (tests and tools; a tap walks them with record())."""
        first = self.find(key)
        n = 0
        while first >= 0 and n < MAX_ENTRIES_PER_CRED and self.record(first + n, key):
            n += 1
        return n

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


def finish(steps):
    """Run an update's steps to the end in one call; returns its result."""
    try:
        while True:
            next(steps)
    except StopIteration as done:
        return done.value
