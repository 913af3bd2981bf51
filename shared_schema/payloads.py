# The payload of every message kind (docs/PROTOCOL.md "Kinds"): field rules, limits and cross-field rules.
#
# A rule is a function value -> bool. KINDS maps a kind to (direction, fields, cross-field check); fields
# are (name, rule, required) in code-point order of the names, which is the order a receiver checks them
# in (the first failing field names the error: missing_field:p.<f> / bad_field:p.<f>). The cross-field
# check runs after every field passed.
#
# Text fields (fw, err, id, reason) are printable ASCII (0x20-0x7E): their length is then the same on
# every interpreter (MicroPython's json keeps a surrogate pair as two characters, CPython as one), and a
# lock cannot slip a lone surrogate or a control character into the cloud's database or logs.
from shared_schema.credentials import HASH_HEX_CHARS
from shared_schema.schedule import MAX_WINDOWS, offset_table_error, window_error
from shared_schema.vocabulary import (
    BOLT_STATES,
    BOOT_REASONS,
    COMMAND_ACTIONS,
    DOOR_STATES,
    DOWN,
    EVENT_TYPES,
    MAX_CHUNKS,
    MAX_COMMAND_DURATION_S,
    MAX_COUNTER,
    MAX_DELETES_PER_DELTA,
    MAX_DEVICE_ID_CHARS,
    MAX_ENTRIES_PER_CHUNK,
    MAX_ENTRIES_PER_CRED,
    MAX_EVENTS_PER_BATCH,
    MODES,
    NONCE_BYTES,
    ROLE_ADMIN,
    ROLE_NORMAL,
    STORE_STATUSES,
    TIME_SOURCES,
    UP,
)

MAX_REASON_CHARS = 24
WRAPPED_SECRET_HEX_CHARS = 64


def _int(value):
    # bool is not an int here (MicroPython: isinstance(True, int) is False anyway; CPython: it is True).
    return isinstance(value, int) and not isinstance(value, bool)


def _uint(value):
    return _int(value) and 0 <= value <= MAX_COUNTER


def _pos(value):
    return _int(value) and 1 <= value <= MAX_COUNTER


def _bool(value):
    return isinstance(value, bool)


# Parameterised rules are small tuples, not closures (a closure costs about 175 bytes of MicroPython heap,
# a tuple 48): check(rule, value) tells them from plain rule functions.
_RANGE = 0
_TEXT = 1
_ONE_OF = 2


def _range(low, high):
    return (_RANGE, low, high)


def _text(limit):
    return (_TEXT, limit)


def _one_of(choices):
    return (_ONE_OF, choices)


def check(rule, value):
    """True when `value` satisfies `rule` (a function, or one of the tuples made above)."""
    if not isinstance(rule, tuple):
        return rule(value)
    if rule[0] == _RANGE:
        return _int(value) and rule[1] <= value <= rule[2]
    if rule[0] == _TEXT:
        return isinstance(value, str) and len(value) <= rule[1] and _printable(value)
    return isinstance(value, str) and value in rule[1]


def _printable(value):
    for ch in value:
        if not " " <= ch <= "~":
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


def _cred_hash(value):
    return is_hex(value, HASH_HEX_CHARS)


def is_nonce(value):
    """A challenge nonce on the wire: 32 lowercase hex characters (hello.nonce, envelope c)."""
    return is_hex(value, NONCE_BYTES * 2)


def _wrapped(value):
    return is_hex(value, WRAPPED_SECRET_HEX_CHARS)


def is_device_id(value):
    """1-32 characters of a-z 0-9 - _ (it travels in MQTT topics and broker user names)."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_DEVICE_ID_CHARS:
        return False
    for ch in value:
        if not ("a" <= ch <= "z" or "0" <= ch <= "9" or ch in "-_"):
            return False
    return True


def _windows(value):
    if not isinstance(value, list) or len(value) > MAX_WINDOWS:
        return False
    for window in value:
        if window_error(window):
            return False
    return True


def _entry(value):
    # [table hash, role, valid_from, valid_until, windows]
    if not isinstance(value, list) or len(value) != 5:
        return False
    cred, role, valid_from, valid_until, windows = value
    if not _cred_hash(cred) or not _int(role) or role not in (ROLE_NORMAL, ROLE_ADMIN):
        return False
    if not _uint(valid_from) or not _uint(valid_until):
        return False
    if valid_from and valid_until and valid_until <= valid_from:
        return False
    return _windows(windows)


def entry_sort_key(entry):
    """The wire order of permission entries: (cred, role, valid_from, valid_until, windows), windows
    compared as sequences of integer triples (a prefix sorts first). Entries travel strictly increasing
    in this order, so a lock streams them to flash without sorting in RAM."""
    cred, role, valid_from, valid_until, windows = entry
    return (cred, role, valid_from, valid_until, tuple(tuple(window) for window in windows))


def _entries(value):
    # Compares the entries as lists, which is entry_sort_key's order without building the keys.
    if not isinstance(value, list) or len(value) > MAX_ENTRIES_PER_CHUNK:
        return False
    previous = None
    of_this_cred = 0
    for entry in value:
        if not _entry(entry):
            return False
        if previous is not None and not previous < entry:
            return False
        of_this_cred = of_this_cred + 1 if previous is not None and previous[0] == entry[0] else 1
        if of_this_cred > MAX_ENTRIES_PER_CRED:
            return False
        previous = entry
    return True


def _hashes(value):
    if not isinstance(value, list) or len(value) > MAX_DELETES_PER_DELTA:
        return False
    previous = None
    for item in value:
        if not _cred_hash(item) or (previous is not None and item <= previous):
            return False
        previous = item
    return True


_REASON = _text(MAX_REASON_CHARS)


def _event(value):
    # [seq, ts (0 = clock not trusted), type, cred_id or "", reason]
    if not isinstance(value, list) or len(value) != 5:
        return False
    seq, ts, kind, cred, reason = value
    if not _pos(seq) or not _uint(ts) or not isinstance(kind, str) or kind not in EVENT_TYPES:
        return False
    if cred != "" and not _cred_hash(cred):
        return False
    return check(_REASON, reason)


def _events(value):
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_EVENTS_PER_BATCH:
        return False
    previous = 0
    for event in value:
        if not _event(event) or event[0] <= previous:
            return False
        previous = event[0]
    return True


def _offsets(value):
    return offset_table_error(value) is None


def _snap_rules(payload):
    if payload["i"] >= payload["of"]:
        return "bad_field:p.i"
    return None


def _delta_rules(payload):
    if payload["ver"] <= payload["base"]:
        return "bad_field:p.ver"
    for entry in payload["add"]:
        if entry[0] in payload["del"]:
            return "bad_field:p.del"
    return None


def _cmd_rules(payload):
    if "dur" in payload and payload["action"] != "unlock":
        return "bad_field:p.dur"
    return None


def _fields(spec):
    # {name: (rule, required)} -> (name, rule, required, name, ...) in code-point order of the names:
    # one flat tuple per kind rather than a tuple per field (less heap on the lock).
    flat = []
    for name in sorted(spec):
        flat.extend((name, spec[name][0], spec[name][1]))
    return tuple(flat)


_MODE = (_one_of(MODES), True)
_ERR = (_text(32), False)

# kind -> (direction, fields, cross-field rules or None)
KINDS = {
    "hello": (UP, _fields({
        "fw": (_text(32), True), "pv": (_uint, True), "kg": (_uint, True), "cv": (_uint, True),
        "boot": (_one_of(BOOT_REASONS), True), "clk": (_one_of(TIME_SOURCES), True),
        "trusted": (_bool, True), "sync_age": (_range(-1, MAX_COUNTER), True), "mode": _MODE,
        "pending": (_uint, True), "dropped": (_uint, True), "nonce": (is_nonce, True),
        "resync": (_bool, True), "store": (_one_of(STORE_STATUSES), True),
        "bat": (_range(0, 100), False), "heap": (_uint, False), "rssi": (_range(-128, 127), False),
    }), None),
    "state": (UP, _fields({
        "door": (_one_of(DOOR_STATES), True), "bolt": (_one_of(BOLT_STATES), True), "mode": _MODE,
        "pv": (_uint, True), "pending": (_uint, True), "dropped": (_uint, True),
    }), None),
    "perm_ack": (UP, _fields({
        "ver": (_uint, True), "ok": (_bool, True), "err": _ERR, "need": (_one_of(("snapshot",)), False),
    }), None),
    "cfg_ack": (UP, _fields({"ver": (_uint, True), "ok": (_bool, True), "err": _ERR}), None),
    "events": (UP, _fields({"ev": (_events, True), "dropped": (_uint, True)}), None),
    "cmd_result": (UP, _fields({"id": (_text(36), True), "ok": (_bool, True), "err": _ERR}), None),
    "time": (DOWN, _fields({
        "now": (_pos, True), "offsets": (_offsets, True), "until": (_pos, True),
    }), None),
    "snap": (DOWN, _fields({
        "ver": (_pos, True), "g": (_pos, True), "i": (_range(0, MAX_CHUNKS - 1), True),
        "of": (_range(1, MAX_CHUNKS), True), "e": (_entries, True),
    }), _snap_rules),
    "delta": (DOWN, _fields({
        "base": (_uint, True), "ver": (_pos, True), "g": (_pos, True), "add": (_entries, True),
        "del": (_hashes, True),
    }), _delta_rules),
    "ev_ack": (DOWN, _fields({"upto": (_uint, True)}), None),
    "cmd": (DOWN, _fields({
        "id": (_text(36), True), "action": (_one_of(COMMAND_ACTIONS), True),
        "dur": (_range(1, MAX_COMMAND_DURATION_S), False),
    }), _cmd_rules),
    "config": (DOWN, _fields({
        "ver": (_pos, True), "mode": _MODE, "passage": (_windows, True),
        "unlock_s": (_range(1, 60), True), "held_s": (_range(5, 3600), True),
    }), None),
    "rekey": (DOWN, _fields({"gen": (_pos, True), "wrapped": (_wrapped, True)}), None),
}


def payload_error(kind, payload):
    """Step 7: None, or missing_field:p.<f> / bad_field:p.<f> for a payload of a known kind."""
    direction, fields, cross_rules = KINDS[kind]
    for i in range(0, len(fields), 3):
        name = fields[i]
        if name not in payload:
            if fields[i + 2]:
                return "missing_field:p." + name
        elif not check(fields[i + 1], payload[name]):
            return "bad_field:p." + name
    return cross_rules(payload) if cross_rules else None
