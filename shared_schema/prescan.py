# Step 3 of docs/PROTOCOL.md: the byte-level pre-scan of a message BODY, after its MAC and before any parsing.
#
# One pass, left to right, no allocation that grows with the input (a memoryview slice and a few small
# ints), so a correctly signed but hostile BODY (a 3,900-digit number, 2,000 nested brackets, 1,000
# unique strings) is refused before a JSON parser could spend heap on it. The first violation in byte
# order is reported. The scan is lexical, not a grammar check: it only has to know whether a byte is
# inside a string (an unescaped '"' opens or closes one, '\' escapes the next byte), so that brackets,
# digits and quotes inside strings are not counted as structure.
#
#   not_ascii        a byte outside 0x20-0x7E (control characters, DEL, any non-ASCII or overlong UTF-8)
#   too_deep         more than MAX_DEPTH brackets ('{' '[') open at once, outside strings
#   number_too_long  a number or literal token with more than MAX_NUMBER_DIGITS digits
#   string_too_long  more than MAX_STRING_CHARS bytes between a string's quotes (escapes count as written)
#   too_many_values  more than MAX_VALUES values: every '{', '[', string (object keys included) and
#                    number or literal token counts one
from shared_schema.vocabulary import MAX_DEPTH, MAX_NUMBER_DIGITS, MAX_STRING_CHARS, MAX_VALUES

_QUOTE = 0x22
_BACKSLASH = 0x5C
_OPENERS = b"{["
_CLOSERS = b"}]"
# Bytes that end a number or literal token outside strings (space is allowed by JSON, though not canonical).
_SEPARATORS = b",: "


def scan(body):
    """Pre-scan `body` (bytes, bytearray or memoryview of the BODY): None, or the first violation's code."""
    depth = 0
    values = 0
    length = 0  # bytes in the current string, or digits in the current number/literal token
    in_string = False
    escaped = False
    in_token = False
    for byte in body:
        if byte < 0x20 or byte > 0x7E:
            return "not_ascii"
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
                continue
            length += 1
            if length > MAX_STRING_CHARS:
                return "string_too_long"
            continue
        if byte == _QUOTE or byte in _OPENERS:
            in_token = False
            values += 1
            if values > MAX_VALUES:
                return "too_many_values"
            if byte == _QUOTE:
                in_string = True
                length = 0
            else:
                depth += 1
                if depth > MAX_DEPTH:
                    return "too_deep"
        elif byte in _CLOSERS:
            in_token = False
            if depth:  # an unbalanced closer is the grammar's business (not_json), not a depth
                depth -= 1
        elif byte in _SEPARATORS:
            in_token = False
        else:
            if not in_token:
                in_token = True
                length = 0
                values += 1
                if values > MAX_VALUES:
                    return "too_many_values"
            if 0x30 <= byte <= 0x39:
                length += 1
                if length > MAX_NUMBER_DIGITS:
                    return "number_too_long"
    return None
