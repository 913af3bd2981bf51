# Canonical JSON: the exact bytes a signature covers, identical on CPython and MicroPython.
#
# Rules (docs/PROTOCOL.md): object keys sorted by their UTF-8 bytes, no whitespace, integers only
# (no floats: they do not survive both interpreters byte-for-byte), strings escaped with the minimal
# JSON escapes and every character outside printable ASCII as \uXXXX (surrogate pairs above U+FFFF).
# Neither interpreter's json.dumps gives this (MicroPython cannot sort keys, and its dicts are unordered).

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class CanonicalError(ValueError):
    pass


def _string(text, out):
    out.append('"')
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code > 0xFFFF:
            code -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
        else:
            out.append("\\u%04x" % code)
    out.append('"')


def _value(value, out, depth):
    if depth > 8:
        raise CanonicalError("too deep")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, str):
        _string(value, out)
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _value(item, out, depth + 1)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        keys = sorted(value)
        for i, key in enumerate(keys):
            if not isinstance(key, str):
                raise CanonicalError("non-string key")
            if i:
                out.append(",")
            _string(key, out)
            out.append(":")
            _value(value[key], out, depth + 1)
        out.append("}")
    else:
        raise CanonicalError("unsupported type " + type(value).__name__)


def canonical_bytes(value):
    """Encode `value` (dict/list/str/int/bool/None) as canonical JSON bytes; raises CanonicalError."""
    out = []
    _value(value, out, 0)
    return "".join(out).encode()
