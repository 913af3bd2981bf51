# Canonical JSON: the exact bytes a signature covers, identical on CPython and MicroPython.
#
# Rules (docs/PROTOCOL.md): object keys sorted by code point, no whitespace, integers only (no floats:
# they do not survive both interpreters byte-for-byte), strings with the short JSON escapes, other control
# characters and everything above ASCII as lowercase \uXXXX (surrogate pairs above U+FFFF). This is exactly
# CPython's json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True); MicroPython cannot
# sort keys and its dicts are unordered, hence this encoder.
#
# The encoder writes to a sink (anything with update(bytes)), so a message can be checked against its
# received bytes (is_canonical) without building a second copy of them: the lock's heap is small and
# fragmented.

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MAX_DEPTH = 8


class CanonicalError(ValueError):
    pass


class CanonicalTooLarge(CanonicalError):
    """The encoding does not fit the buffer given to write_into()."""


def _escape(ch):
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code > 0xFFFF:
        code -= 0x10000
        return "\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))
    return "\\u%04x" % code


def _plain(encoded, length):
    # True when the UTF-8 `encoded` of a `length`-character string needs no escape at all: one byte per
    # character (ASCII) and none of them a control character, DEL, quote or backslash.
    if len(encoded) != length:
        return False
    for byte in encoded:
        if byte < 0x20 or byte == 0x7F or byte == 0x22 or byte == 0x5C:
            return False
    return True


def _string(text, sink):
    sink.update(b'"')
    try:
        encoded = text.encode()
    except UnicodeError:  # CPython: a lone surrogate (escaped below, as \udXXX)
        encoded = b""
    if _plain(encoded, len(text)):  # the common case (hashes, names, codes), without a loop over characters
        sink.update(encoded)
        sink.update(b'"')
        return
    clean_from = 0
    for i in range(len(text)):  # not enumerate(): it builds a tuple per character on MicroPython
        ch = text[i]
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
    for key in value:
        if not isinstance(key, str):  # before sorting: mixed key types do not even compare
            raise CanonicalError("non-string key")
    sink.update(b"{")
    for i, key in enumerate(sorted(value)):
        if i:
            sink.update(b",")
        _string(key, sink)
        sink.update(b":")
        _value(value[key], sink, depth + 1)
    sink.update(b"}")


class _Mismatch(Exception):
    pass


class _Comparer:
    # A sink that compares what the encoder writes with the expected bytes as it goes, and stops the
    # encoder at the first difference.
    def __init__(self, expected):
        self.expected = expected
        self.position = 0

    def update(self, chunk):
        end = self.position + len(chunk)
        if end > len(self.expected) or self.expected[self.position : end] != chunk:
            raise _Mismatch()
        self.position = end


class _Writer:
    # A sink that writes into a preallocated buffer (a writable memoryview) and refuses to overflow it.
    def __init__(self, view):
        self.view = view
        self.position = 0

    def update(self, chunk):
        end = self.position + len(chunk)
        if end > len(self.view):
            raise CanonicalTooLarge()
        self.view[self.position : end] = chunk
        self.position = end


class _Buffer:
    def __init__(self):
        self.data = bytearray()

    def update(self, chunk):
        self.data.extend(chunk)


def write_canonical(value, sink):
    """Stream the canonical encoding of `value` into sink.update(); raises CanonicalError."""
    _value(value, sink, 0)


def write_into(value, view):
    """Encode `value` into `view` (a writable memoryview, e.g. of a lock's transmit buffer) and return the
    length; raises CanonicalTooLarge when it does not fit (nothing allocated in proportion to it)."""
    writer = _Writer(view)
    _value(value, writer, 0)
    return writer.position


def canonical_bytes(value):
    """Encode `value` (dict/list/str/int/bool/None) as canonical JSON bytes; raises CanonicalError."""
    buffer = _Buffer()
    _value(value, buffer, 0)
    return bytes(buffer.data)


def is_canonical(value, expected):
    """True when `expected` (bytes-like, e.g. a memoryview of a received BODY) is exactly the canonical
    encoding of `value`. Streams the encoder into a comparing sink: the encoding is never built."""
    comparer = _Comparer(expected)
    try:
        _value(value, comparer, 0)
    except (_Mismatch, CanonicalError):
        return False
    return comparer.position == len(expected)
