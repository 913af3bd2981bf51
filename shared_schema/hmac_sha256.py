# HMAC-SHA256 (RFC 2104) on hashlib.sha256, because MicroPython has no hmac module.
import hashlib

_BLOCK_SIZE = 64


def _padded_key(key, pad):
    if len(key) > _BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    padded = bytearray(_BLOCK_SIZE)
    for i in range(_BLOCK_SIZE):
        padded[i] = (key[i] if i < len(key) else 0) ^ pad
    return padded


class HmacKey:
    """A key with its two padded blocks computed once: what a lock keeps for the whole run, so that the
    tap path (one HMAC per tap) does not redo the padding and its allocations every time."""

    def __init__(self, key):
        self.inner_pad = bytes(_padded_key(key, 0x36))
        self.outer_pad = bytes(_padded_key(key, 0x5C))

    def mac(self, message):
        # Inline rather than through HmacSha256: no extra object on the tap path.
        inner = hashlib.sha256(self.inner_pad)
        inner.update(message)
        outer = hashlib.sha256(self.outer_pad)
        outer.update(inner.digest())
        return outer.digest()


class HmacSha256:
    """Incremental HMAC-SHA256: update() any number of times, then digest() once.

    Lets a signature be computed over a message streamed piece by piece, without ever holding the
    message's bytes whole (the lock has about 100 KB of heap). `key` is bytes or an HmacKey."""

    def __init__(self, key):
        if not isinstance(key, HmacKey):
            key = HmacKey(key)
        self._outer_key = key.outer_pad
        self._inner = hashlib.sha256(key.inner_pad)

    def update(self, data):
        self._inner.update(data)

    def digest(self):
        outer = hashlib.sha256(self._outer_key)
        outer.update(self._inner.digest())
        return outer.digest()


def hmac_sha256(key, message):
    """Return the 32-byte HMAC-SHA256 of `message` (bytes) under `key` (bytes or HmacKey)."""
    if isinstance(key, HmacKey):
        return key.mac(message)
    mac = HmacSha256(key)
    mac.update(message)
    return mac.digest()


def compare_digest(a, b):
    """Compare two byte strings in time that depends only on their lengths, not their contents."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):  # indexing, not zip(): zip builds a tuple per byte on MicroPython (2 KB per MAC)
        diff |= a[i] ^ b[i]
    return diff == 0
