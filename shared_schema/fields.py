# The rules of the contract's field values (docs/PROTOCOL.md "Kinds", "Limits"), each value -> bool.
#
# Parameterised rules are small tuples made by int_range(), text() and one_of(), checked by check(): a
# closure would cost about 175 bytes of MicroPython heap, a tuple 48. payloads.py puts them together per
# message kind.
#
# Text fields (fw, err, id, reason) are printable ASCII (0x20-0x7E) other than '"' and '\': their length is
# then the same on every interpreter (MicroPython's json keeps a surrogate pair as two characters, CPython
# as one) and on the wire (nothing to escape, so the largest event batch in the vectors is the largest
# there can be), and a lock cannot slip a control character or a lone surrogate into the cloud's logs.
from shared_schema.schedule import MAX_WINDOWS, offset_table_error, window_error
from shared_schema.vocabulary import (
    CRED_HEX_CHARS,
    EVENT_TYPES,
    MAX_COUNTER,
    MAX_DELETES_PER_DELTA,
    MAX_DEVICE_ID_CHARS,
    MAX_ENTRIES_PER_CHUNK,
    MAX_ENTRIES_PER_CRED,
    MAX_EVENTS_PER_BATCH,
    NONCE_BYTES,
    ROLE_ADMIN,
    ROLE_NORMAL,
)

MAX_REASON_CHARS = 24
WRAPPED_SECRET_HEX_CHARS = 64


def is_int(value):
    # bool is not an int here (MicroPython: isinstance(True, int) is False anyway; CPython: it is True).
    return isinstance(value, int) and not isinstance(value, bool)


def is_uint(value):
    return is_int(value) and 0 <= value <= MAX_COUNTER


def is_pos(value):
    return is_int(value) and 1 <= value <= MAX_COUNTER


def is_bool(value):
    return isinstance(value, bool)


_RANGE = 0
_TEXT = 1
_ONE_OF = 2


def int_range(low, high):
    return (_RANGE, low, high)


def text(limit):
    return (_TEXT, limit)


def one_of(choices):
    return (_ONE_OF, choices)


def check(rule, value):
    """True when `value` satisfies `rule` (a function, or one of the tuples made above)."""
    if not isinstance(rule, tuple):
        return rule(value)
    if rule[0] == _RANGE:
        return is_int(value) and rule[1] <= value <= rule[2]
    if rule[0] == _TEXT:
        return isinstance(value, str) and len(value) <= rule[1] and _printable(value)
    return isinstance(value, str) and value in rule[1]


def _printable(value):
    for ch in value:
        if not " " <= ch <= "~" or ch == '"' or ch == "\\":
            return False
    return True


def is_hex(value, count):
    """True for a str of exactly `count` lowercase hex characters."""
    if not isinstance(value, str) or len(value) != count:
        return False
    for ch in value:
        if ch not in "0123456789abcdef":
            return False
    return True


def is_cred_hash(value):
    return is_hex(value, CRED_HEX_CHARS)


def is_nonce(value):
    """A challenge nonce on the wire: 32 lowercase hex characters (hello.nonce, envelope c)."""
    return is_hex(value, NONCE_BYTES * 2)


def is_wrapped_secret(value):
    return is_hex(value, WRAPPED_SECRET_HEX_CHARS)


def is_device_id(value):
    """1-32 characters of a-z 0-9 - _ (it travels in MQTT topics and broker user names)."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_DEVICE_ID_CHARS:
        return False
    for ch in value:
        if not ("a" <= ch <= "z" or "0" <= ch <= "9" or ch in "-_"):
            return False
    return True


def is_windows(value):
    if not isinstance(value, list) or len(value) > MAX_WINDOWS:
        return False
    for window in value:
        if window_error(window):
            return False
    return True


def is_entry(value):
    # [table hash, role, valid_from, valid_until, windows]
    if not isinstance(value, list) or len(value) != 5:
        return False
    cred, role, valid_from, valid_until, windows = value
    if not is_cred_hash(cred) or not is_int(role) or role not in (ROLE_NORMAL, ROLE_ADMIN):
        return False
    if not is_uint(valid_from) or not is_uint(valid_until):
        return False
    if valid_from and valid_until and valid_until <= valid_from:
        return False
    return is_windows(windows)


def entry_sort_key(entry):
    """The wire order of permission entries: (cred, role, valid_from, valid_until, windows), windows
    compared as sequences of integer triples (a prefix sorts first). Entries travel strictly increasing
    in this order, so a lock streams them to flash without sorting in RAM."""
    cred, role, valid_from, valid_until, windows = entry
    return (cred, role, valid_from, valid_until, tuple(tuple(window) for window in windows))


def is_entries(value):
    # Compares the entries as lists, which is entry_sort_key's order without building the keys.
    if not isinstance(value, list) or len(value) > MAX_ENTRIES_PER_CHUNK:
        return False
    previous = None
    of_this_cred = 0
    for entry in value:
        if not is_entry(entry):
            return False
        if previous is not None and not previous < entry:
            return False
        of_this_cred = of_this_cred + 1 if previous is not None and previous[0] == entry[0] else 1
        if of_this_cred > MAX_ENTRIES_PER_CRED:
            return False
        previous = entry
    return True


def is_hashes(value):
    if not isinstance(value, list) or len(value) > MAX_DELETES_PER_DELTA:
        return False
    previous = None
    for item in value:
        if not is_cred_hash(item) or (previous is not None and item <= previous):
            return False
        previous = item
    return True


_REASON = text(MAX_REASON_CHARS)


def is_event(value):
    # [seq, ts (0 = clock not trusted), type, cred_id or "", reason]
    if not isinstance(value, list) or len(value) != 5:
        return False
    seq, ts, kind, cred, reason = value
    if not is_pos(seq) or not is_uint(ts) or not isinstance(kind, str) or kind not in EVENT_TYPES:
        return False
    if cred != "" and not is_cred_hash(cred):
        return False
    return check(_REASON, reason)


def is_events(value):
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_EVENTS_PER_BATCH:
        return False
    previous = 0
    for event in value:
        if not is_event(event) or event[0] <= previous:
            return False
        previous = event[0]
    return True


def is_offsets(value):
    return offset_table_error(value) is None


