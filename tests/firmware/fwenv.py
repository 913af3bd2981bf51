# Shared helpers for the firmware core tests on MicroPython: import path, temp dirs, permission entries.
# The RAM block device with power cuts is in fwflash.py, fake hardware for LockApp in fwhw.py: kept apart
# because every test file is compiled from source into a small heap, and most need neither.
import os
import sys


def _root():
    parts = __file__.replace("\\", "/").split("/")
    root = "/".join(parts[:-3])
    return root or "."


FIRMWARE = _root() + "/firmware" if _root() != "." else "firmware"
if FIRMWARE not in sys.path:
    sys.path.append(FIRMWARE)

import binascii  # noqa: E402

SITE_KEY = b"0123456789abcdef-site-key"
DEVICE_SECRET = bytes(range(32))  # the test locks' provisioned secret (key generation 1)
_counter = [0]
_table_keys = {}


# --- directories ------------------------------------------------------------------------------------------

def temp_dir():
    """A fresh directory on the host filesystem (VfsPosix)."""
    _counter[0] += 1
    path = "/tmp/lockfw_" + binascii.hexlify(os.urandom(4)).decode() + "_" + str(_counter[0])
    os.mkdir(path)
    return path


def remove_tree(path):
    for name in os.listdir(path):
        os.remove(path + "/" + name)
    os.rmdir(path)


# --- permission entries -----------------------------------------------------------------------------------

def cred_key(n):
    """The 16-byte hash and hex of credential number n (an ISO14443A 7-byte UID), keyed like the cloud."""
    from shared_schema.credentials import credential_hash

    hex_hash = credential_hash(SITE_KEY, "iso14443a", uid(n))
    return binascii.unhexlify(hex_hash), hex_hash


def table_key(secret=DEVICE_SECRET):
    """K_table (HmacKey) of a device secret, made once per secret."""
    if secret not in _table_keys:
        from shared_schema.credentials import table_key as make

        _table_keys[secret] = make(secret)
    return _table_keys[secret]


def table_hash(n, secret=DEVICE_SECRET):
    """Hex table hash of credential number n on a lock with `secret` (what snap/delta entries carry)."""
    from shared_schema.credentials import table_hash as make

    return make(table_key(secret), cred_key(n)[1])


def uid(n):
    return bytes([0x04, 0x10, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF, 0x5A, 0xA5])


def fake_hash(n):
    """A cheap distinct 32-hex-char hash for large tables (sorted order == numeric order of n)."""
    return "%032x" % (n * 2654435761 + 7)


def chunks(entries, size=12):
    out = []
    for i in range(0, len(entries), size):
        out.append(entries[i : i + size])
    return out or [[]]


def install_snapshot(store, version, entries, size=12, generation=1):
    parts = chunks(entries, size)
    result = None
    for i in range(len(parts)):
        result = store.snapshot_chunk(version, generation, i, len(parts), parts[i])
    return result
