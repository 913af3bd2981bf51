# The payload of every message kind (docs/PROTOCOL.md "Kinds"): its fields and cross-field rules.
#
# KINDS maps a kind to (direction, fields, cross-field check). Fields are one flat tuple (name, rule,
# required, name, ...) in code-point order of the names, the order a receiver checks them in: the first
# failing field names the error (missing_field:p.<f> / bad_field:p.<f>). The cross-field check runs after
# every field passed. The rules themselves are in fields.py (kept apart: compiling one large module from
# source needs more contiguous heap than a lock-sized test heap offers).
from shared_schema.fields import (
    check,
    int_range,
    is_bool,
    is_entries,
    is_events,
    is_hashes,
    is_nonce,
    is_offsets,
    is_pos,
    is_uint,
    is_windows,
    is_wrapped_secret,
    one_of,
    text,
)
from shared_schema.vocabulary import (
    BOLT_STATES,
    BOOT_REASONS,
    COMMAND_ACTIONS,
    DOOR_STATES,
    DOWN,
    MAX_CHUNKS,
    MAX_COMMAND_DURATION_S,
    MAX_COUNTER,
    MODES,
    STORE_STATUSES,
    TIME_SOURCES,
    UP,
)


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


_MODE = (one_of(MODES), True)
_ERR = (text(32), False)

# kind -> (direction, fields, cross-field rules or None)
KINDS = {
    "hello": (UP, _fields({
        "fw": (text(32), True), "pv": (is_uint, True), "kg": (is_uint, True), "cv": (is_uint, True),
        "boot": (one_of(BOOT_REASONS), True), "clk": (one_of(TIME_SOURCES), True),
        "trusted": (is_bool, True), "sync_age": (int_range(-1, MAX_COUNTER), True), "mode": _MODE,
        "pending": (is_uint, True), "dropped": (is_uint, True), "nonce": (is_nonce, True),
        "resync": (is_bool, True), "store": (one_of(STORE_STATUSES), True),
        "bat": (int_range(0, 100), False), "heap": (is_uint, False), "rssi": (int_range(-128, 127), False),
    }), None),
    "state": (UP, _fields({
        "door": (one_of(DOOR_STATES), True), "bolt": (one_of(BOLT_STATES), True), "mode": _MODE,
        "pv": (is_uint, True), "pending": (is_uint, True), "dropped": (is_uint, True),
    }), None),
    "perm_ack": (UP, _fields({
        "ver": (is_uint, True), "ok": (is_bool, True), "err": _ERR, "need": (one_of(("snapshot",)), False),
    }), None),
    "cfg_ack": (UP, _fields({"ver": (is_uint, True), "ok": (is_bool, True), "err": _ERR}), None),
    "events": (UP, _fields({"ev": (is_events, True), "dropped": (is_uint, True)}), None),
    "cmd_result": (UP, _fields({"id": (text(36), True), "ok": (is_bool, True), "err": _ERR}), None),
    "time": (DOWN, _fields({
        "now": (is_pos, True), "offsets": (is_offsets, True), "until": (is_pos, True),
    }), None),
    "snap": (DOWN, _fields({
        "ver": (is_pos, True), "g": (is_pos, True), "i": (int_range(0, MAX_CHUNKS - 1), True),
        "of": (int_range(1, MAX_CHUNKS), True), "e": (is_entries, True),
    }), _snap_rules),
    "delta": (DOWN, _fields({
        "base": (is_uint, True), "ver": (is_pos, True), "g": (is_pos, True), "add": (is_entries, True),
        "del": (is_hashes, True),
    }), _delta_rules),
    "ev_ack": (DOWN, _fields({"upto": (is_uint, True)}), None),
    "cmd": (DOWN, _fields({
        "id": (text(36), True), "action": (one_of(COMMAND_ACTIONS), True),
        "dur": (int_range(1, MAX_COMMAND_DURATION_S), False),
    }), _cmd_rules),
    "config": (DOWN, _fields({
        "ver": (is_pos, True), "mode": _MODE, "passage": (is_windows, True),
        "unlock_s": (int_range(1, 60), True), "held_s": (int_range(5, 3600), True),
    }), None),
    "rekey": (DOWN, _fields({"gen": (is_pos, True), "wrapped": (is_wrapped_secret, True)}), None),
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
