# The strict JSON grammar (RFC 8259), checked byte by byte: what tells `not_json` from `not_canonical`.
#
# MicroPython's json.loads is lenient (commas and colons are optional, '{"a"}' parses as {}, leading zeros
# and trailing commas pass), CPython's is strict. A receiver only accepts a BODY that is exactly the
# canonical encoding of what it parsed, so leniency never lets a bad message through; but which refusal
# a bad BODY gets must not depend on the interpreter. So the decoder runs this check on its failure path
# only (a BODY that did not parse, is not an object, or is not canonical) and reports `not_json` exactly
# when the BODY is not JSON by the RFC's grammar. Nothing here runs for a good message.
#
# Bounded: called after the pre-scan (prescan.py), so the recursion is at most MAX_DEPTH deep; it
# allocates only small slices.
from shared_schema.vocabulary import MAX_DEPTH

_WHITESPACE = b" \t\n\r"
_SHORT_ESCAPES = b'"\\/bfnrt'
_HEX = b"0123456789abcdefABCDEF"
_LITERALS = (b"true", b"false", b"null")

OBJECT = "object"
OTHER = "other"


def top_level(body):
    """OBJECT or OTHER if `body` (ASCII bytes-like) is one JSON value (RFC 8259), None if it is not JSON."""
    start = _skip(body, 0)
    end = _value(body, start, 0)
    if end < 0 or _skip(body, end) != len(body):
        return None
    return OBJECT if body[start] == 0x7B else OTHER


def _skip(body, i):
    while i < len(body) and body[i] in _WHITESPACE:
        i += 1
    return i


def _value(body, i, depth):
    # Returns the index just past the value starting at i, or -1.
    if i >= len(body):
        return -1
    byte = body[i]
    if byte == 0x7B:
        return _object(body, i + 1, depth + 1)
    if byte == 0x5B:
        return _array(body, i + 1, depth + 1)
    if byte == 0x22:
        return _string(body, i + 1)
    if byte == 0x2D or 0x30 <= byte <= 0x39:
        return _number(body, i)
    for word in _LITERALS:
        if body[i : i + len(word)] == word:
            return i + len(word)
    return -1


def _object(body, i, depth):
    if depth > MAX_DEPTH:
        return -1
    i = _skip(body, i)
    if i < len(body) and body[i] == 0x7D:
        return i + 1
    while True:
        if i >= len(body) or body[i] != 0x22:
            return -1
        i = _string(body, i + 1)
        if i < 0:
            return -1
        i = _skip(body, i)
        if i >= len(body) or body[i] != 0x3A:
            return -1
        i = _value(body, _skip(body, i + 1), depth)
        if i < 0:
            return -1
        i = _skip(body, i)
        if i < len(body) and body[i] == 0x2C:
            i = _skip(body, i + 1)
        elif i < len(body) and body[i] == 0x7D:
            return i + 1
        else:
            return -1


def _array(body, i, depth):
    if depth > MAX_DEPTH:
        return -1
    i = _skip(body, i)
    if i < len(body) and body[i] == 0x5D:
        return i + 1
    while True:
        i = _value(body, i, depth)
        if i < 0:
            return -1
        i = _skip(body, i)
        if i < len(body) and body[i] == 0x2C:
            i = _skip(body, i + 1)
        elif i < len(body) and body[i] == 0x5D:
            return i + 1
        else:
            return -1


def _string(body, i):
    # i is just past the opening quote.
    while i < len(body):
        byte = body[i]
        if byte == 0x22:
            return i + 1
        if byte < 0x20:
            return -1
        if byte == 0x5C:
            if i + 1 >= len(body):
                return -1
            escape = body[i + 1]
            if escape == 0x75:  # \uXXXX
                for k in range(i + 2, i + 6):
                    if k >= len(body) or body[k] not in _HEX:
                        return -1
                i += 6
                continue
            if escape not in _SHORT_ESCAPES:
                return -1
            i += 2
            continue
        i += 1
    return -1


def _digits(body, i):
    start = i
    while i < len(body) and 0x30 <= body[i] <= 0x39:
        i += 1
    return i if i > start else -1


def _number(body, i):
    if body[i] == 0x2D:
        i += 1
    if i < len(body) and body[i] == 0x30:
        i += 1
    else:
        i = _digits(body, i)
        if i < 0:
            return -1
    if i < len(body) and body[i] == 0x2E:
        i = _digits(body, i + 1)
        if i < 0:
            return -1
    if i < len(body) and body[i] in b"eE":
        i += 1
        if i < len(body) and body[i] in b"+-":
            i += 1
        i = _digits(body, i)
    return i
