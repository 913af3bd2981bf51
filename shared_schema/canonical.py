# Canonical JSON: the exact bytes a signature covers, identical on CPython and MicroPython.
#
# Rules (docs/PROTOCOL.md): object keys sorted by code point, no whitespace, integers only (no floats:
# they do not survive both interpreters byte-for-byte), strings with the short JSON escapes, other control
# characters and everything above ASCII as lowercase \uXXXX (surrogate pairs above U+FFFF). This is exactly
# CPython's json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True); MicroPython cannot
# sort keys and its dicts are unordered, hence this encoder.
#
# The encoder writes to a sink (anything with update(bytes)), so a signature can be computed over a
# 4 KiB message without building its bytes: the lock's heap is small and fragmented.

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MAX_DEPTH = 8


class CanonicalError(ValueError):
    pass


def _escape(ch):
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code > 0xFFFF:
        code -= 0x10000
        return "\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))
    return "\\u%04x" % code


def _string(text, sink):
    sink.update(b'"')
    clean_from = 0
    for i, ch in enumerate(text):
        if ch in _ESCAPES or not 0x20 <= ord(ch) < 0x7F:
            if clean_from < i:
                sink.update(text[clean_from:i].encode())
            sink.update(_escape(ch).encode())
            clean_from = i + 1
    if clean_from < len(text):
        sink.update(text[clean_from:].encode())
    sink.update(b'"')


def _value(value, sink, depth):
    if depth > _MAX_DEPTH:
        raise CanonicalError("too deep")
    if value is None:
        sink.update(b"null")
    elif value is True:
        sink.update(b"true")
    elif value is False:
        sink.update(b"false")
    elif isinstance(value, int):
        sink.update(str(value).encode())
    elif isinstance(value, str):
        _string(value, sink)
    elif isinstance(value, (list, tuple)):
        sink.update(b"[")
        for i, item in enumerate(value):
            if i:
                sink.update(b",")
            _value(item, sink, depth + 1)
        sink.update(b"]")
    elif isinstance(value, dict):
        _object(value, sink, depth)
    else:
        raise CanonicalError("unsupported type " + type(value).__name__)


def _object(value, sink, depth):
    sink.update(b"{")
    for i, key in enumerate(sorted(value)):
        if not isinstance(key, str):
            raise CanonicalError("non-string key")
        if i:
            sink.update(b",")
        _string(key, sink)
        sink.update(b":")
        _value(value[key], sink, depth + 1)
    sink.update(b"}")


class _Buffer:
    def __init__(self):
        self.data = bytearray()

    def update(self, chunk):
        self.data.extend(chunk)


def write_canonical(value, sink):
    """Stream the canonical encoding of `value` into sink.update(); raises CanonicalError."""
    _value(value, sink, 0)


def canonical_bytes(value):
    """Encode `value` (dict/list/str/int/bool/None) as canonical JSON bytes; raises CanonicalError."""
    buffer = _Buffer()
    _value(value, buffer, 0)
    return bytes(buffer.data)
