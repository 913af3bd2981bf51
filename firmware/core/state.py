# Small persistent counters that must survive power loss and never go backwards:
#   down_counter   highest downlink message counter accepted (replay protection, shared_schema.messages)
#   uplink seq     the lock's own message counter; reserved in blocks so it is never reused
#   event log      seq high-water mark, acknowledged seq, dropped-record count (core.eventlog)
#
# One 36-byte file with a CRC, replaced atomically (write state.bin.tmp, close, rename). Counters that
# advance often (uplink seq, event seq) are reserved UP_BLOCK/EV_BLOCK ahead, so the file is rewritten once
# per block rather than once per message or event: after a reboot counting resumes at the reserved mark,
# leaving a gap but never reusing a number.
import binascii
import struct

from micropython import const

from core import fsutil

FILE_NAME = "state.bin"
_MAGIC = b"LST1"
_FORMAT = "<4sQQIII"  # magic, down_counter, up_reserved, ev_reserved, ev_acked, ev_dropped
_BODY = const(32)
UP_BLOCK = const(16)
EV_BLOCK = const(64)


class State:
    def __init__(self, data_dir):
        self.path = fsutil.join(data_dir, FILE_NAME)
        self.down_counter = 0
        self.up_reserved = 0
        self.ev_reserved = 0  # highest event seq that may have been handed out (seqs start at 1)
        self.ev_acked = 0
        self.ev_dropped = 0
        # "missing" (fresh device), "ok", or "corrupt" (refused: counters restart, reported at boot)
        self.status = "missing"
        self._load()
        self._up_next = self.up_reserved + 1

    def _load(self):
        fsutil.remove(self.path + ".tmp")  # an update interrupted before its rename
        raw = fsutil.read_all(self.path)
        if raw is None:
            return
        if len(raw) != _BODY + 4 or raw[:4] != _MAGIC:
            self.status = "corrupt"
            return
        (crc,) = struct.unpack_from("<I", raw, _BODY)
        if binascii.crc32(raw[:_BODY]) != crc:
            self.status = "corrupt"
            return
        _, self.down_counter, self.up_reserved, self.ev_reserved, self.ev_acked, self.ev_dropped = (
            struct.unpack_from(_FORMAT, raw, 0)
        )
        self.status = "ok"

    def save(self):
        body = struct.pack(
            _FORMAT, _MAGIC, self.down_counter, self.up_reserved, self.ev_reserved, self.ev_acked,
            self.ev_dropped,
        )
        fsutil.write_atomic(self.path, body + struct.pack("<I", binascii.crc32(body)))

    def accept_downlink(self, counter):
        """Record an accepted downlink counter; False (and nothing stored) if it is not newer."""
        if counter <= self.down_counter:
            return False
        self.down_counter = counter
        self.save()
        return True

    def next_uplink(self):
        """The next uplink message counter: strictly increasing across reboots and power cuts."""
        value = self._up_next
        if value > self.up_reserved:
            self.up_reserved = value + UP_BLOCK - 1
            self.save()  # persisted before the number is used
        self._up_next = value + 1
        return value
