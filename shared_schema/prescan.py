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


def scan(body):
    """Pre-scan `body` (bytes, bytearray or memoryview of the BODY): None, or the first violation's code."""
    # The hot loop of every received message: limits as locals and bytes as literals, because a global
    # or a `byte in b"..."` costs a lookup per byte on MicroPython (this is 3x faster than with them).
    max_depth, max_digits, max_chars, max_values = MAX_DEPTH, MAX_NUMBER_DIGITS, MAX_STRING_CHARS, MAX_VALUES
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
            elif byte == 0x22:  # "
                in_string = False
                continue
            elif byte == 0x5C:  # backslash
                escaped = True
            length += 1
            if length > max_chars:
                return "string_too_long"
            continue
        if 0x30 <= byte <= 0x39:  # a digit
            if not in_token:
                in_token = True
                length = 0
                values += 1
                if values > max_values:
                    return "too_many_values"
            length += 1
            if length > max_digits:
                return "number_too_long"
        elif byte == 0x22:  # " opens a string
            in_token = False
            in_string = True
            length = 0
            values += 1
            if values > max_values:
                return "too_many_values"
        elif byte == 0x2C or byte == 0x3A or byte == 0x20:  # , : space end a token
            in_token = False
        elif byte == 0x5B or byte == 0x7B:  # [ {
            in_token = False
            depth += 1
            if depth > max_depth:
                return "too_deep"
            values += 1
            if values > max_values:
                return "too_many_values"
        elif byte == 0x5D or byte == 0x7D:  # ] }
            in_token = False
            if depth:  # an unbalanced closer is the grammar's business (not_json), not a depth
                depth -= 1
        elif not in_token:  # the first byte of a literal (true false null) or of a token like "-1"
            in_token = True
            length = 0
            values += 1
            if values > max_values:
                return "too_many_values"
    return None
