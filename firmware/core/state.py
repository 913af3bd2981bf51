# Small persistent values that must survive power loss and never go backwards:
#   down_counter   highest downlink message counter accepted (replay protection)
#   uplink seq     the lock's own message counter; reserved in blocks so it is never reused
#   event log      seq high-water mark, acknowledged seq, dropped-record count (core.eventlog)
#   pv_floor       highest permission version ever applied (a snapshot below it is a rollback)
#   time_floor     a trusted time the clock has reached (core.clock: an RTC below it is not trusted)
#   epoch          provisioning epoch this state belongs to (config.json's `epoch`)
#   flags          resync, site_set, clock set by an untrusted source
#   commands       CRC32s of the last two command ids executed (a command is one-shot across reboots too)
#
# One 62-byte file with a CRC (small enough for LittleFS to keep inline in its metadata, even on 512-byte
# blocks, so it can still be rewritten when the filesystem is full), replaced atomically (write
# state.bin.tmp, close, rename). Counters that advance often (uplink seq, event seq) are reserved
# UP_BLOCK/EV_BLOCK ahead, so the file is rewritten once per block
# rather than once per message or event: after a reboot counting resumes at the reserved mark, leaving a gap
# but never reusing a number. A missing or damaged file puts the lock in resync (docs/PROTOCOL.md "State
# loss"): the flag is persisted at once and stays until a complete nonce-bound snapshot is applied.
#
# save() raises OSError when the flash fails; the in-memory values of the change that failed are put back
# by the callers below, so a refused operation leaves nothing half-done.
import binascii
import struct

from micropython import const

from core import fsutil

FILE_NAME = "state.bin"
_MAGIC = b"LST2"
# magic, down_counter, up_reserved, ev_reserved, ev_acked, ev_dropped, pv_floor, time_floor (u32: until
# 2106), epoch (u32), flags, 2 command id CRCs
_FORMAT = "<4sQQIIIQIIH2I"
_BODY = const(58)
UP_BLOCK = const(16)
EV_BLOCK = const(64)
FLAG_RESYNC = const(1)  # state was lost: only nonce-bound downlinks until a bound snapshot completes
FLAG_SITE_SET = const(2)  # the cloud has set site settings (config or time): losing site.json matters
FLAG_CLOCK_UNTRUSTED = const(4)  # the RTC was last set by NTP or a user: not trusted across a reset
_COMMANDS = const(2)
MAX_EPOCH = 0xFFFFFFFF


class State:
    def __init__(self, data_dir, epoch=0):
        self.path = fsutil.join(data_dir, FILE_NAME)
        self.down_counter = 0
        self.up_reserved = 0
        self.ev_reserved = 0  # highest event seq that may have been handed out (seqs start at 1)
        self.ev_acked = 0
        self.ev_dropped = 0
        self.pv_floor = 0
        self.time_floor = 0
        self.epoch = epoch
        self.flags = 0
        self.commands = [0] * _COMMANDS
        # "missing" (fresh device or lost), "ok", or "corrupt" (refused: counters restart, resync)
        self.status = "missing"
        self._load()
        if self.status != "ok":
            self.flags |= FLAG_RESYNC
            self.try_save()
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
        values = struct.unpack_from(_FORMAT, raw, 0)
        (_, self.down_counter, self.up_reserved, self.ev_reserved, self.ev_acked, self.ev_dropped,
         self.pv_floor, self.time_floor, self.epoch, self.flags) = values[:10]
        self.commands = list(values[10:])
        self.status = "ok"

    def save(self):
        c = self.commands
        body = struct.pack(
            _FORMAT, _MAGIC, self.down_counter, self.up_reserved, self.ev_reserved, self.ev_acked,
            self.ev_dropped, self.pv_floor, self.time_floor, self.epoch, self.flags, c[0], c[1],
        )
        fsutil.write_atomic(self.path, body + struct.pack("<I", binascii.crc32(body)))

    def try_save(self):
        """save(), True if it reached the flash (boot paths that must go on whatever the flash does)."""
        try:
            self.save()
            return True
        except OSError:
            return False

    def update(self, name, value):
        """Change one value and persist it; on a flash error the old value is put back and OSError raised."""
        old = getattr(self, name)
        setattr(self, name, value)
        try:
            self.save()
        except OSError:
            setattr(self, name, old)
            raise

    # --- flags ----------------------------------------------------------------------------------------

    def has(self, flag):
        return bool(self.flags & flag)

    def set_flag(self, flag, on=True):
        """Set or clear a flag, persisted (nothing written if it is already so)."""
        value = (self.flags | flag) if on else (self.flags & ~flag)
        if value != self.flags:
            self.update("flags", value)

    @property
    def resync(self):
        return bool(self.flags & FLAG_RESYNC)

    # --- counters -------------------------------------------------------------------------------------

    def accept_downlink(self, counter):
        """Record an accepted downlink counter: True once persisted, False (nothing stored) if it is not
        newer. Raises OSError if the flash fails (the message must then be refused: storage_error)."""
        if counter <= self.down_counter:
            return False
        self.update("down_counter", counter)
        return True

    def next_uplink(self):
        """The next uplink message counter: strictly increasing across reboots and power cuts. Raises
        OSError if a new block cannot be reserved (nothing can be sent then)."""
        value = self._up_next
        if value > self.up_reserved:
            self.update("up_reserved", value + UP_BLOCK - 1)  # persisted before the number is used
        self._up_next = value + 1
        return value

    def raise_pv_floor(self, version):
        if version > self.pv_floor:
            self.update("pv_floor", version)

    def set_time_floor(self, unix_seconds):
        """A trusted time (may be lower than before: a verified time message may step back)."""
        self.update("time_floor", unix_seconds)

    def reprovisioned(self, epoch):
        """config.json names another epoch: a new provisioning. Message counters, floors and flags start
        over (in resync); the event seq keeps counting upwards (never reused)."""
        self.down_counter = self.up_reserved = self.pv_floor = self.time_floor = 0
        self.epoch, self.flags = epoch, FLAG_RESYNC
        self.commands = [0] * _COMMANDS
        self._up_next = 1
        self.try_save()

    # --- one-shot commands -----------------------------------------------------------------------------

    def command_seen(self, cmd_id):
        return _command_crc(cmd_id) in self.commands

    def remember_command(self, cmd_id):
        """Persist that `cmd_id` ran (the last _COMMANDS ids); raises OSError, remembering nothing."""
        self.update("commands", [_command_crc(cmd_id)] + self.commands[: _COMMANDS - 1])


def _command_crc(cmd_id):
    # 0 marks an empty slot; a command id whose CRC is 0 is remembered as 1 (a 2^-32 collision either way)
    return binascii.crc32(cmd_id.encode()) or 1
