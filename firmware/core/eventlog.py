# On-flash event log: every decision and door/bolt event, kept until the cloud acknowledges it.
#
# Records are 32 bytes (seq u32, ts u32, type u8, reason u8, flags u8, pad, credential id 16, CRC32)
# appended to segment files evNNNNNNNN.log of SEGMENT_RECORDS records each: 4096 bytes, one LittleFS block
# of the ESP32's flash, so a full segment takes exactly one block and the capacity in records is what the
# filesystem really spends. Appending opens the tail segment, writes one record and closes it (durable at
# close); no file is ever rewritten, so one event costs one small LittleFS commit, spread over the flash by
# LittleFS's wear levelling.
#
# - Sequence numbers are reserved ahead in core.state (EV_BLOCK at a time) before use, so a number is
#   never reused even when the record that carried it was torn by a power cut.
# - A torn record (short tail or bad CRC) is skipped when read; appends then continue in a fresh segment,
#   so nothing before it is lost.
# - Bounded: at most `capacity` records (rounded up to whole segments). When full (or the filesystem is),
#   the oldest segment is deleted; its unacknowledged records are added to the persisted `dropped` count.
# - Never takes the room the permission store needs: before a new segment starts, the filesystem's free
#   space (os.statvfs) must exceed one segment plus `reserve(block_size)` (core.permstore.room_needed:
#   a full table written beside the live one); otherwise the oldest segment goes first (counted).
# - ack(upto) persists the acknowledged seq and deletes segments that hold nothing newer.
import binascii
import errno
import os
import struct

from micropython import const

from core import fsutil, reasons
from core.state import EV_BLOCK
from shared_schema.vocabulary import EVENT_TYPES, MAX_EVENTS_PER_BATCH

RECORD_SIZE = const(32)
SEGMENT_RECORDS = const(128)  # 4096 bytes: one LittleFS block on the ESP32
_FORMAT = "<IIBBBx16s"  # seq, ts, type, reason, flags; CRC32 of these 28 bytes follows
_BODY = const(28)
_FLAG_CRED = const(1)
_PREFIX = "ev"
_SUFFIX = ".log"
_NO_CRED = bytes(16)
_U32_MAX = const(0xFFFFFFFF)
# MicroPython's errno module may lack ENOSPC; LittleFS reports "no space" as 28 (LFS_ERR_NOSPC) on every port.
_ENOSPC = getattr(errno, "ENOSPC", 28)


def _segment_name(index):
    return "%s%08d%s" % (_PREFIX, index, _SUFFIX)


def _type_index(event_type):
    for i in range(len(EVENT_TYPES)):
        if EVENT_TYPES[i] == event_type:
            return i
    raise ValueError("unknown event type")


class EventLog:
    def __init__(self, data_dir, state, capacity=1024, reserve=None, segment_records=SEGMENT_RECORDS):
        """`reserve(block_size)`: bytes that must stay free for others (None: no reserve).
        `segment_records`: tests use short segments to cross boundaries cheaply."""
        self.dir = data_dir
        self.state = state
        self.reserve = reserve
        self.segment_records = segment_records
        self.max_segments = max(2, (capacity + segment_records - 1) // segment_records)
        self.pending = 0  # records on flash not yet acknowledged
        self._rec = bytearray(RECORD_SIZE)
        self._segments = []  # segment indexes, oldest first
        self._last_seqs = []  # highest valid seq in each segment (0 if none)
        self._tail_records = 0  # records in the tail segment
        self._tail_open = False  # False: the next append starts a new segment (full, torn or none)
        self._load()

    # --- boot -----------------------------------------------------------------------------------------

    def _load(self):
        found = []
        for name in os.listdir(self.dir or "."):
            if name.startswith(_PREFIX) and name.endswith(_SUFFIX) and len(name) == 14:
                try:
                    found.append(int(name[2:10]))
                except ValueError:
                    pass
        found.sort()
        last = 0
        for index in found:
            seg_last, valid, total, torn = self._scan(index)
            self._segments.append(index)
            self._last_seqs.append(seg_last)
            last = max(last, seg_last)
            self.pending += valid
            self._tail_records = total
            self._tail_open = not torn and total < self.segment_records
        self._next_seq = max(self.state.ev_reserved, last) + 1
        try:
            self._reserve(self._next_seq)  # never hand out a number from before this boot's high-water mark
        except OSError:
            pass  # flash full or failing: the first append tries again (and fails loudly if it must)

    def _scan(self, index):
        """(last valid seq, unacked valid records, whole records, torn tail?) of one segment."""
        path = fsutil.join(self.dir, _segment_name(index))
        size = fsutil.size(path)
        last = valid = total = 0
        torn = size % RECORD_SIZE != 0
        with open(path, "rb") as f:
            while f.readinto(self._rec) == RECORD_SIZE:
                total += 1
                seq = self._check()
                if seq is None:
                    torn = True
                    continue
                last = max(last, seq)
                if seq > self.state.ev_acked:
                    valid += 1
        return last, valid, total, torn

    def _check(self):
        """Seq of the record in self._rec, or None if its CRC does not match."""
        (crc,) = struct.unpack_from("<I", self._rec, _BODY)
        if binascii.crc32(memoryview(self._rec)[:_BODY]) != crc:
            return None
        return struct.unpack_from("<I", self._rec, 0)[0]

    def _reserve(self, seq):
        if seq > self.state.ev_reserved:
            self.state.update("ev_reserved", seq + EV_BLOCK - 1)

    # --- append ---------------------------------------------------------------------------------------

    @property
    def dropped(self):
        return self.state.ev_dropped

    @property
    def next_seq(self):
        return self._next_seq

    def append(self, event_type, ts, cred=None, reason=""):
        """Log one event; returns its seq. cred: 16-byte credential id or None. Raises OSError when the
        flash fails (the caller reports it; the seq is not reused)."""
        seq = self._next_seq
        type_index = _type_index(event_type)
        self._reserve(seq)
        self._next_seq = seq + 1  # used even if nothing is written below: never reused
        if not self._tail_open:
            self._start_segment()  # may drop this event (counted) when the store's reserve leaves no room
        struct.pack_into(
            _FORMAT, self._rec, 0, seq, min(max(ts or 0, 0), _U32_MAX), type_index,
            reasons.index(reason), _FLAG_CRED if cred else 0, cred or _NO_CRED,
        )
        struct.pack_into("<I", self._rec, _BODY, binascii.crc32(memoryview(self._rec)[:_BODY]))
        try:
            self._write_tail()
        except OSError as exc:
            # The filesystem is full before the log reached its capacity (other files grew): make room
            # the same way as when the log is full, once, then give up (the caller reports it).
            if exc.args[0] != _ENOSPC or len(self._segments) < 2:
                raise
            self._drop_oldest()
            self._write_tail()
        self._last_seqs[-1] = seq
        self._tail_records += 1
        self._tail_open = self._tail_records < self.segment_records
        self.pending += 1
        return seq

    def _write_tail(self):
        with open(fsutil.join(self.dir, _segment_name(self._segments[-1])), "ab") as f:
            f.write(self._rec)

    def _start_segment(self):
        while len(self._segments) >= self.max_segments:
            self._drop_oldest()
        while not self._room_for_segment():
            if not self._segments:
                # Not even one segment fits beside the store's reserve: this event is lost, and counted.
                self.state.update("ev_dropped", self.state.ev_dropped + 1)
                raise OSError(_ENOSPC)
            self._drop_oldest()
        index = self._segments[-1] + 1 if self._segments else 0
        self._segments.append(index)
        self._last_seqs.append(0)
        self._tail_records = 0
        self._tail_open = True

    def _room_for_segment(self):
        if self.reserve is None:
            return True
        stat = os.statvfs(self.dir or ".")
        block = stat[0]
        return stat[4] * block >= self.segment_records * RECORD_SIZE + self.reserve(block)

    def _drop_oldest(self):
        # Full: the oldest segment goes; its unacknowledged records are counted as dropped first, so a
        # power cut can over-count a loss but never hide one.
        _, lost, _, _ = self._scan(self._segments[0])
        if lost:
            self.state.update("ev_dropped", self.state.ev_dropped + lost)
            self.pending -= lost
        fsutil.remove(fsutil.join(self.dir, _segment_name(self._segments.pop(0))))
        self._last_seqs.pop(0)

    # --- upload -----------------------------------------------------------------------------------------

    def read_batch(self, limit=MAX_EVENTS_PER_BATCH):
        """Oldest unacknowledged events as [[seq, ts, type, cred_hex_or_"", reason], ...] (<= limit)."""
        out = []
        acked = self.state.ev_acked
        for i in range(len(self._segments)):
            if self._last_seqs[i] <= acked:
                continue
            with open(fsutil.join(self.dir, _segment_name(self._segments[i])), "rb") as f:
                while len(out) < limit and f.readinto(self._rec) == RECORD_SIZE:
                    seq = self._check()
                    if seq is not None and seq > acked:
                        out.append(self._decode())
            if len(out) >= limit:
                break
        return out

    def _decode(self):
        seq, ts, type_i, reason_i, flags, cred = struct.unpack_from(_FORMAT, self._rec, 0)
        cred_hex = binascii.hexlify(cred).decode() if flags & _FLAG_CRED else ""
        type_name = EVENT_TYPES[type_i] if type_i < len(EVENT_TYPES) else "tamper"
        return [seq, ts, type_name, cred_hex, reasons.name(reason_i)]

    def ack(self, upto):
        """The cloud has stored every event with seq <= upto: forget them. Returns the acked seq."""
        upto = min(upto, self._next_seq - 1)  # cannot acknowledge what was never sent
        if upto <= self.state.ev_acked:
            return self.state.ev_acked
        self.state.update("ev_acked", upto)  # raises OSError: nothing acknowledged, nothing deleted
        while self._segments and self._last_seqs[0] <= upto:
            fsutil.remove(fsutil.join(self.dir, _segment_name(self._segments.pop(0))))
            self._last_seqs.pop(0)
            if not self._segments:
                self._tail_open = False
        self.pending = 0
        for index in self._segments:
            self.pending += self._scan(index)[1]
        return upto
