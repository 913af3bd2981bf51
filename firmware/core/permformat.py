# On-flash format of the permission store (docs/FIRMWARE.md "Permission store"): one file
#
#   [record 0] ... [record count-1]  [schedule table]  [footer]
#
# record (26 bytes), in the wire order of entries: (table hash, role, valid_from, valid_until, windows),
# strictly increasing; a credential has 1..MAX_ENTRIES_PER_CRED consecutive records (any of them may open):
#   table hash 16 bytes | role u8 | schedule u8 (0 = any time, else index+1 into the table) |
#   valid_from u32 | valid_until u32                (Unix seconds UTC, 0 = unbounded)
# schedule table: per distinct window list, u8 count then count x u32 packed windows
#   (days << 22 | start_minute << 11 | end_minute); at most 255 distinct lists per store, so a site
#   with a few group schedules pays ~0 bytes per credential for them.
# footer (44 bytes): magic, store version, key generation of the table hashes, record count, table offset
#   and length, schedule count, record size, CRC32 of everything before the footer, CRC32 of the footer.
#
# The footer is written last: a truncated file has no valid footer, and a flipped bit anywhere fails a
# CRC, so a damaged file is refused as a whole instead of answering wrongly. A version-1 file (magic PSF1,
# keyed by credential id rather than by table hash) is refused the same way: only a snapshot replaces it.
import binascii
import struct

from micropython import const

from shared_schema.credentials import HASH_BYTES
from shared_schema.schedule import MAX_WINDOWS, window_error

# The values of shared_schema.messages.ROLE_*, repeated so that the store (and the 10,000-credential
# heap budget) does not pull in the ~20 KB message module; a test checks that they match.
ROLE_NORMAL = const(0)
ROLE_ADMIN = const(1)
RECORD_SIZE = const(26)
RECORD_FORMAT = "<16sBBII"
FOOTER_SIZE = const(44)
# magic, version, generation, count, table_off, table_len, nsets, record_size, body_crc
FOOTER_FORMAT = "<4sQQIIIHHI"
FOOTER_MAGIC = b"PSF2"
MAX_SCHEDULES = const(255)
MAX_SCHEDULE_BYTES = const(33)  # one encoded window list: count byte + MAX_WINDOWS x 4
# Validity instants are stored as u32 (good until 2106); later instants are clamped, which only changes
# answers after 2106.
_U32_MAX = const(0xFFFFFFFF)
_MAX_COUNTER = (1 << 53) - 1
_HEX = "0123456789abcdef"


def pack_window(window):
    days, start, end = window
    return (days << 22) | (start << 11) | end


def unpack_window(packed):
    return [(packed >> 22) & 0x7F, (packed >> 11) & 0x7FF, packed & 0x7FF]


def encode_windows(windows):
    """The schedule-table form of a window list (bytes, usable as a dict key)."""
    out = bytearray(1 + 4 * len(windows))
    out[0] = len(windows)
    for i, window in enumerate(windows):
        struct.pack_into("<I", out, 1 + 4 * i, pack_window(window))
    return bytes(out)


def is_uint(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_COUNTER


def hash_bytes(text):
    """16 bytes of a 32-lowercase-hex table hash, or None."""
    if not isinstance(text, str) or len(text) != 2 * HASH_BYTES:
        return None
    for ch in text:
        if ch not in _HEX:
            return None
    return binascii.unhexlify(text)


def entry_error(entry):
    """None if `entry` ([hash_hex, role, valid_from, valid_until, windows]) is usable, else a reason."""
    if not isinstance(entry, (list, tuple)) or len(entry) != 5:
        return "entry_shape"
    cred, role, valid_from, valid_until, windows = entry
    if hash_bytes(cred) is None:
        return "entry_hash"
    if isinstance(role, bool) or role not in (ROLE_NORMAL, ROLE_ADMIN):
        return "entry_role"
    if not is_uint(valid_from) or not is_uint(valid_until):
        return "entry_validity"
    if valid_from and valid_until and valid_until <= valid_from:
        return "entry_validity"
    if not isinstance(windows, list) or len(windows) > MAX_WINDOWS:
        return "entry_windows"
    for window in windows:
        if window_error(window):
            return "entry_windows"
    return None


def entry_follows(previous, entry):
    """True if `entry` comes strictly after `previous` in the wire order (hash, role, from, until,
    windows); both already checked by entry_error. Lists compare element by element on both
    interpreters, and a window list that is a prefix of another sorts first, as the contract says."""
    if entry[0] != previous[0]:
        return entry[0] > previous[0]
    return list(entry[1:]) > list(previous[1:])


def entry_hash(entry):
    return binascii.unhexlify(entry[0])


def pack_record(buf, key, role, schedule, valid_from, valid_until):
    struct.pack_into(
        RECORD_FORMAT, buf, 0, key, role, schedule, min(valid_from, _U32_MAX), min(valid_until, _U32_MAX)
    )


def pack_footer(version, generation, count, table_len, nsets, body_crc):
    body = struct.pack(
        FOOTER_FORMAT, FOOTER_MAGIC, version, generation, count, count * RECORD_SIZE, table_len, nsets,
        RECORD_SIZE, body_crc,
    )
    return body + struct.pack("<I", binascii.crc32(body))


def unpack_footer(raw, file_size):
    """(version, generation, count, table_off, table_len, nsets, body_crc) or None if not valid."""
    if len(raw) != FOOTER_SIZE:
        return None
    (crc,) = struct.unpack_from("<I", raw, FOOTER_SIZE - 4)
    if binascii.crc32(raw[: FOOTER_SIZE - 4]) != crc:
        return None
    magic, version, generation, count, table_off, table_len, nsets, rec_size, body_crc = struct.unpack_from(
        FOOTER_FORMAT, raw, 0
    )
    if magic != FOOTER_MAGIC or rec_size != RECORD_SIZE or table_off != count * RECORD_SIZE:
        return None
    if table_off + table_len + FOOTER_SIZE != file_size or nsets > MAX_SCHEDULES:
        return None
    return version, generation, count, table_off, table_len, nsets, body_crc


def decode_windows(buf):
    """Window list from one encoded schedule (count byte + packed windows) at the start of buf."""
    windows = []
    for i in range(buf[0]):
        (packed,) = struct.unpack_from("<I", buf, 1 + 4 * i)
        windows.append(unpack_window(packed))
    return windows
