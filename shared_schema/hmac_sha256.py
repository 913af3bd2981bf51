# HMAC-SHA256 (RFC 2104) on hashlib.sha256, because MicroPython has no hmac module.
import hashlib

_BLOCK_SIZE = 64
_IPAD = bytes(0x36 for _ in range(_BLOCK_SIZE))
_OPAD = bytes(0x5C for _ in range(_BLOCK_SIZE))


def _xor(data, pad):
    return bytes(a ^ b for a, b in zip(data, pad))


def hmac_sha256(key, message):
    """Return the 32-byte HMAC-SHA256 of `message` (bytes) under `key` (bytes)."""
    if len(key) > _BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key + bytes(_BLOCK_SIZE - len(key))
    inner = hashlib.sha256(_xor(key, _IPAD))
    inner.update(message)
    outer = hashlib.sha256(_xor(key, _OPAD))
    outer.update(inner.digest())
    return outer.digest()


def compare_digest(a, b):
    """Compare two byte strings in time that depends only on their lengths, not their contents."""
    if len(a) != len(b):
        return False
    diff = 0
    for x, y in zip(a, b):
        diff |= x ^ y
    return diff == 0
