# Every message between a lock and the cloud: kinds, field rules, size limit, signing and verifying.
#
# Envelope (all messages, docs/PROTOCOL.md):
#   v  protocol version (int)          k  kind (str)           d  device id (str)
#   n  counter: downlink = cloud's per-device counter, uplink = lock's event-independent sequence;
#      strictly increasing per direction, so a receiver refuses anything <= the last it accepted
#   t  issued at, Unix seconds UTC     x  expires at (required on "cmd", optional elsewhere)
#   p  payload (object, per kind)      s  hex HMAC-SHA256(device secret, canonical bytes without "s")
# Unknown fields are ignored (they are still covered by the signature); unknown kinds and versions
# are refused. decode() never raises and never returns a partly valid message.
import binascii
import json

from shared_schema import PROTOCOL_VERSION
from shared_schema.canonical import CanonicalError, canonical_bytes, write_canonical
from shared_schema.credentials import HASH_HEX_CHARS
from shared_schema.hmac_sha256 import HmacSha256, compare_digest
from shared_schema.schedule import MAX_WINDOWS, offset_table_error, window_error
from shared_schema.vocabulary import (  # noqa: F401 (re-exported: the contract's names live in one place)
    BOOT_REASONS,
    COMMAND_ACTIONS,
    DOWN,
    EVENT_TYPES,
    MAX_COMMAND_LIFETIME_S,
    MAX_COUNTER,
    MAX_DELETES_PER_DELTA,
    MAX_DEVICE_ID_CHARS,
    MAX_ENTRIES_PER_CHUNK,
    MAX_EVENTS_PER_BATCH,
    MAX_MESSAGE_BYTES,
    MODES,
    ROLE_ADMIN,
    ROLE_NORMAL,
    TIME_SOURCES,
    UP,
)


class MessageError(ValueError):
    """Raised by encode() for a message the contract forbids; str(error) is the error code."""


def topic(device_id, direction):
    """MQTT topic of a device's traffic in one direction: locks/<device>/up or locks/<device>/down."""
    return "locks/" + device_id + "/" + direction


# --- field rules -------------------------------------------------------------------------------
# A rule is a function value -> bool. Payload specs map field name -> (rule, required).


def _int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _uint(value):
    return _int(value) and 0 <= value <= MAX_COUNTER


def _pos(value):
    return _int(value) and 1 <= value <= MAX_COUNTER


def _bool(value):
    return isinstance(value, bool)


def _text(limit):
    return lambda value: isinstance(value, str) and len(value) <= limit


def _one_of(choices):
    return lambda value: isinstance(value, str) and value in choices


def _range(low, high):
    return lambda value: _int(value) and low <= value <= high


def _hex_chars(value, count):
    if not isinstance(value, str) or len(value) != count:
        return False
    for ch in value:
        if ch not in "0123456789abcdef":
            return False
    return True


def _cred_hash(value):
    return _hex_chars(value, HASH_HEX_CHARS)


def _device_id(value):
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
    # [credential hash, role, valid_from, valid_until, windows]
    if not isinstance(value, list) or len(value) != 5:
        return False
    cred, role, valid_from, valid_until, windows = value
    if not _cred_hash(cred) or role not in (ROLE_NORMAL, ROLE_ADMIN) or not _int(role):
        return False
    if not _uint(valid_from) or not _uint(valid_until):
        return False
    if valid_from and valid_until and valid_until <= valid_from:
        return False
    return _windows(windows)


def _sorted_list(item_rule, limit, key):
    # Entries travel sorted by credential hash, unique, so the lock can stream them to flash in order.
    def rule(value):
        if not isinstance(value, list) or len(value) > limit:
            return False
        previous = None
        for item in value:
            if not item_rule(item):
                return False
            current = key(item)
            if previous is not None and current <= previous:
                return False
            previous = current
        return True

    return rule


def _event(value):
    # [seq, ts (0 = clock not set), type, credential hash or "", reason code]
    if not isinstance(value, list) or len(value) != 5:
        return False
    seq, ts, kind, cred, reason = value
    if not _pos(seq) or not _uint(ts) or kind not in EVENT_TYPES:
        return False
    if cred != "" and not _cred_hash(cred):
        return False
    return isinstance(reason, str) and len(reason) <= 24


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


_entries = _sorted_list(_entry, MAX_ENTRIES_PER_CHUNK, lambda item: item[0])
_hashes = _sorted_list(_cred_hash, MAX_DELETES_PER_DELTA, lambda item: item)

# kind -> (direction, payload spec)
KINDS = {
    "hello": (UP, {
        "fw": (_text(32), True), "pv": (_uint, True), "boot": (_one_of(BOOT_REASONS), True),
        "clk": (_one_of(TIME_SOURCES), True), "sync_age": (_range(-1, MAX_COUNTER), True),
        "mode": (_one_of(MODES), True), "pending": (_uint, True), "dropped": (_uint, True),
    }),
    "state": (UP, {
        "door": (_one_of(("open", "closed", "unknown")), True),
        "bolt": (_one_of(("locked", "unlocked", "moving", "jammed")), True),
        "mode": (_one_of(MODES), True), "pv": (_uint, True),
        "pending": (_uint, True), "dropped": (_uint, True),
    }),
    "perm_ack": (UP, {
        "ver": (_uint, True), "ok": (_bool, True), "err": (_text(32), False),
        "need": (_one_of(("snapshot",)), False),
    }),
    "events": (UP, {"ev": (_events, True), "dropped": (_uint, True)}),
    "cmd_result": (UP, {"id": (_text(36), True), "ok": (_bool, True), "err": (_text(32), False)}),
    "snap": (DOWN, {
        "ver": (_pos, True), "i": (_range(0, 100000), True), "of": (_range(1, 100000), True),
        "e": (_entries, True),
    }),
    "delta": (DOWN, {
        "base": (_uint, True), "ver": (_pos, True), "add": (_entries, True), "del": (_hashes, True),
    }),
    "ev_ack": (DOWN, {"upto": (_uint, True)}),
    "cmd": (DOWN, {"id": (_text(36), True), "action": (_one_of(COMMAND_ACTIONS), True)}),
    "time": (DOWN, {"now": (_pos, True), "offsets": (_offsets, True)}),
    "config": (DOWN, {
        "mode": (_one_of(MODES), True), "passage": (_windows, True),
        "unlock_s": (_range(1, 60), True), "held_s": (_range(5, 3600), True),
    }),
}


def _payload_error(kind, payload):
    spec = KINDS[kind][1]
    for name in sorted(spec):
        rule, required = spec[name]
        if name not in payload:
            if required:
                return "missing_field:p." + name
            continue
        if not rule(payload[name]):
            return "bad_field:p." + name
    if kind == "snap" and payload["i"] >= payload["of"]:
        return "bad_field:p.i"
    if kind == "delta" and payload["ver"] <= payload["base"]:
        return "bad_field:p.ver"
    return None


def _envelope_error(message, direction, device_id):
    version = message.get("v")
    if not _int(version):
        return "missing_field:v" if version is None else "bad_field:v"
    if version != PROTOCOL_VERSION:
        return "unsupported_version"
    kind = message.get("k")
    if not isinstance(kind, str):
        return "missing_field:k" if kind is None else "bad_field:k"
    if kind not in KINDS:
        return "unknown_kind"
    if KINDS[kind][0] != direction:
        return "wrong_direction"
    for name, rule in (("d", _device_id), ("n", _pos), ("t", _uint), ("s", None), ("p", None)):
        if name not in message:
            return "missing_field:" + name
        if rule is not None and not rule(message[name]):
            return "bad_field:" + name
    if message["d"] != device_id:
        return "wrong_device"
    if not _hex_chars(message["s"], 64):
        return "bad_field:s"
    if not isinstance(message["p"], dict):
        return "bad_field:p"
    if "x" in message and not _uint(message["x"]):
        return "bad_field:x"
    if kind == "cmd":
        if "x" not in message:
            return "missing_field:x"
        if not 0 < message["x"] - message["t"] <= MAX_COMMAND_LIFETIME_S:
            return "bad_field:x"
    return None


def _signature(secret, message):
    # The canonical bytes of the message without "s", streamed straight into the MAC.
    unsigned = {}
    for key in message:
        if key != "s":
            unsigned[key] = message[key]
    mac = HmacSha256(secret)
    write_canonical(unsigned, mac)
    return mac.digest()


def decode(raw, secret, device_id, direction, last_counter, now):
    """Verify and parse one received message.

    raw: the bytes received; secret: the device secret; device_id: whose traffic this is;
    direction: UP when the cloud receives, DOWN when the lock receives; last_counter: the highest
    "n" accepted so far from this peer (0 if none); now: Unix seconds, or None if the clock is unknown.
    Returns (message, None) or (None, error_code). The caller stores message["n"] as the new last_counter.
    """
    try:
        return _decode(raw, secret, device_id, direction, last_counter, now)
    except Exception:  # a decoder must never let anything escape (MemoryError included)
        return None, "internal_error"


def _decode(raw, secret, device_id, direction, last_counter, now):
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        return None, "not_bytes"
    if len(raw) > MAX_MESSAGE_BYTES:
        return None, "too_large"
    if not raw:
        return None, "empty"
    try:
        message = json.loads(bytes(raw).decode())
    except Exception:  # UnicodeError, ValueError: not JSON, truncated, bad UTF-8
        return None, "not_json"
    if not isinstance(message, dict):
        return None, "not_object"
    error = _envelope_error(message, direction, device_id) or _payload_error(message["k"], message["p"])
    if error:
        return None, error
    try:
        expected = _signature(secret, message)
    except CanonicalError:
        return None, "not_canonical"
    if not compare_digest(binascii.unhexlify(message["s"]), expected):
        return None, "bad_signature"
    if message["n"] <= last_counter:
        return None, "replayed"
    if "x" in message:
        if now is None:
            return None, "expiry_unverifiable"
        if now >= message["x"]:
            return None, "expired"
    return message, None


def build(kind, device_id, counter, payload, issued_at, expires_at=None):
    """The unsigned message dict (tests and tools sign it separately with sign())."""
    message = {"v": PROTOCOL_VERSION, "k": kind, "d": device_id, "n": counter, "t": issued_at, "p": payload}
    if expires_at is not None:
        message["x"] = expires_at
    return message


def sign(message, secret):
    """Add "s" to an unsigned message dict and return its canonical wire bytes."""
    message["s"] = binascii.hexlify(_signature(secret, message)).decode()
    return canonical_bytes(message)


def encode(kind, device_id, counter, payload, secret, issued_at, expires_at=None):
    """Build, check, sign and serialize a message; raises MessageError(code) if it breaks the contract."""
    if kind not in KINDS:
        raise MessageError("unknown_kind")
    message = build(kind, device_id, counter, payload, issued_at, expires_at)
    message["s"] = "0" * 64
    error = _envelope_error(message, KINDS[kind][0], device_id) or _payload_error(kind, payload)
    if error:
        raise MessageError(error)
    del message["s"]
    try:
        wire = sign(message, secret)
    except CanonicalError:
        raise MessageError("not_canonical")
    if len(wire) > MAX_MESSAGE_BYTES:
        raise MessageError("too_large")
    return wire
