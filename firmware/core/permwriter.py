# Writes a new permission-store file record by record (sorted), then its schedule table and footer.
# Used by snapshot chunks and by delta merges; the caller renames the finished file onto the live name.
# RAM use is bounded by the schedule table (<= 255 distinct window lists), never by the record count.
import binascii

from core import permformat as fmt


class WriteError(Exception):
    """str(error) is a reason code reported to the cloud (perm_ack err)."""


class TableWriter:
    def __init__(self, path):
        self.path = path
        self.count = 0
        self._crc = 0
        self._last = None
        self._schedules = {}  # encoded window list -> index + 1 (0 means "any time")
        self._table = []  # encoded window lists in index order
        self._rec = bytearray(fmt.RECORD_SIZE)
        self._file = open(path, "wb")

    def schedule_id(self, encoded):
        if encoded[0] == 0:
            return 0
        sid = self._schedules.get(encoded)
        if sid is None:
            if len(self._table) >= fmt.MAX_SCHEDULES:
                raise WriteError("too_many_schedules")
            self._table.append(encoded)
            sid = len(self._table)
            self._schedules[encoded] = sid
        return sid

    def add(self, key, role, encoded_windows, valid_from, valid_until):
        """Append one record; keys must arrive strictly increasing (the cloud sends them sorted)."""
        if self._last is not None and not key > self._last:
            raise WriteError("entries_not_sorted")
        fmt.pack_record(self._rec, key, role, self.schedule_id(encoded_windows), valid_from, valid_until)
        self._write(self._rec)
        self._last = key
        self.count += 1

    def add_entry(self, entry):
        """Append a wire entry [hash_hex, role, valid_from, valid_until, windows] after checking it."""
        error = fmt.entry_error(entry)
        if error:
            raise WriteError(error)
        self.add(fmt.entry_hash(entry), entry[1], fmt.encode_windows(entry[4]), entry[2], entry[3])

    def _write(self, data):
        self._file.write(data)
        self._crc = binascii.crc32(data, self._crc)

    def finish(self, version):
        """Write schedule table and footer and close: the file is complete and durable on return."""
        table_len = 0
        for encoded in self._table:
            self._write(encoded)
            table_len += len(encoded)
        self._file.write(fmt.pack_footer(version, self.count, table_len, len(self._table), self._crc))
        self._file.close()
        self._file = None

    def abort(self):
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None
