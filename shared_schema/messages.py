# Every message between a lock and the cloud (docs/PROTOCOL.md, version 2): keys, envelope, encoding,
# the verifying decoder, the lock's freshness check and the wrapping of a new secret for `rekey`.
#
#   message = MAC || BODY     MAC: 64 lowercase hex of HMAC-SHA256(K_dir, BODY); BODY: canonical JSON
#   K_up / K_down = HMAC-SHA256(device secret, "openakerun/v2/up" / "openakerun/v2/down")
#
# Envelope: v version, k kind, d device id, e provisioning epoch, n counter (strictly increasing per device
# and direction), t issued at, x expires at (every downlink, 1..600 s after t; refused on uplinks), c the
# lock's challenge nonce echoed by the cloud (required on `time`), p payload (shared_schema/payloads.py).
#
# decode() runs the receiver's steps 1-8 in order and never raises; nothing of BODY is read before its MAC
# verified and nothing is allocated in proportion to it before the pre-scan passed. freshness_error() is
# step 9, the lock's own check against its clock and challenge.
import binascii
import json
import sys

from shared_schema import PROTOCOL_VERSION, prescan, strictjson
from shared_schema.canonical import CanonicalError, CanonicalTooLarge, is_canonical, write_into
from shared_schema.fields import (  # noqa: F401 (entry_sort_key re-exported: callers use messages)
    entry_sort_key,
    is_device_id,
    is_int,
    is_nonce,
    is_pos,
    is_uint,
)
from shared_schema.fields import is_entries as _entries  # noqa: F401 (the name callers import)
from shared_schema.hmac_sha256 import HmacKey, HmacSha256, compare_digest, hmac_sha256
from shared_schema.payloads import KINDS, payload_error
from shared_schema.vocabulary import (  # noqa: F401 (re-exported: the contract's names live in one place)
    BOLT_STATES,
    BOOT_REASONS,
    COMMAND_ACTIONS,
    CRED_HEX_CHARS,
    DOOR_STATES,
    DOWN,
    EVENT_TYPES,
    MAC_HEX_CHARS,
    MAX_CHUNKS,
    MAX_COMMAND_DURATION_S,
    MAX_COMMAND_LIFETIME_S,
    MAX_COUNTER,
    MAX_DELETES_PER_DELTA,
    MAX_DEPTH,
    MAX_DEVICE_ID_CHARS,
    MAX_DOWNLINK_LIFETIME_S,
    MAX_ENTRIES_PER_CHUNK,
    MAX_ENTRIES_PER_CRED,
    MAX_EVENTS_PER_BATCH,
    MAX_MESSAGE_BYTES,
    MAX_NUMBER_DIGITS,
    MAX_STRING_CHARS,
    MAX_VALUES,
    MIN_MESSAGE_BYTES,
    MODES,
    NONCE_BYTES,
    ROLE_ADMIN,
    ROLE_NORMAL,
    STATUS,
    STORE_STATUSES,
    TIME_CHALLENGE_TTL_S,
    TIME_SOURCES,
    UP,
)

KEY_LABELS = {UP: b"openakerun/v2/up", DOWN: b"openakerun/v2/down"}
REKEY_LABEL = b"openakerun/v2/rekey/"
SECRET_BYTES = 32

# Built once: returning it allocates nothing, so a decoder that ran out of heap can still answer.
_INTERNAL_ERROR = (None, "internal_error")
# MicroPython's json.loads reads a memoryview in place; CPython's wants bytes (one copy, after the pre-scan).
_LOADS_BUFFERS = sys.implementation.name == "micropython"


class MessageError(ValueError):
    """Raised by encode() (and the rekey helpers) for what the contract forbids; str(error) is the code."""


def topic(device_id, channel):
    """MQTT topic of a device: locks/<device>/up, /down (UP, DOWN) or /status (STATUS)."""
    return "locks/" + device_id + "/" + channel


# --- keys --------------------------------------------------------------------------------------


def direction_key_bytes(device_secret, direction):
    """K_up (direction UP) or K_down (DOWN) of a device secret, as 32 bytes."""
    if direction not in KEY_LABELS:
        raise MessageError("bad_direction")
    return hmac_sha256(device_secret, KEY_LABELS[direction])


def direction_key(device_secret, direction):
    """K_up or K_down, padded once (HmacKey): what encode() and decode() take as `key`."""
    return HmacKey(direction_key_bytes(device_secret, direction))


def mac_hex(key, body):
    """The 64 lowercase hex characters (bytes) of HMAC-SHA256(key, body); `body` may be a memoryview."""
    mac = HmacSha256(key)
    mac.update(body)
    return binascii.hexlify(mac.digest())


def seal(body, key):
    """MAC || BODY for body bytes already encoded (tools and tests use it to sign arbitrary bodies)."""
    return mac_hex(key, body) + bytes(body)


# --- envelope ----------------------------------------------------------------------------------


def _is_dict(value):
    return isinstance(value, dict)


# The fields every message has, in the order step 6 checks them after v and k.
_ENVELOPE = (("d", is_device_id), ("e", is_pos), ("n", is_pos), ("t", is_uint), ("p", _is_dict))


def envelope_error(message, direction, expected_device, expected_epoch):
    """Step 6 of docs/PROTOCOL.md: None or the error code."""
    if "v" not in message:
        return "missing_field:v"
    if not is_int(message["v"]):
        return "bad_field:v"
    if message["v"] != PROTOCOL_VERSION:
        return "unsupported_version"
    if "k" not in message:
        return "missing_field:k"
    kind = message["k"]
    if not isinstance(kind, str):
        return "bad_field:k"
    if kind not in KINDS:
        return "unknown_kind"
    if KINDS[kind][0] != direction:
        return "wrong_direction"
    for name, rule in _ENVELOPE:
        if name not in message:
            return "missing_field:" + name
        if not rule(message[name]):
            return "bad_field:" + name
    if message["d"] != expected_device:
        return "wrong_device"
    if message["e"] != expected_epoch:
        return "wrong_epoch"
    if "x" in message and not is_uint(message["x"]):
        return "bad_field:x"
    if "c" in message and not is_nonce(message["c"]):
        return "bad_field:c"
    if direction != DOWN:
        # An uplink carries no expiry: a receiver that ignored one would accept the message after the
        # instant its sender meant it to die, so one is refused rather than ignored.
        return "bad_field:x" if "x" in message else None
    if "x" not in message:
        return "missing_field:x"
    if not 1 <= message["x"] - message["t"] <= MAX_DOWNLINK_LIFETIME_S:
        return "bad_field:x"
    if kind == "time" and "c" not in message:
        return "missing_field:c"
    return None


def build(kind, device_id, epoch, counter, payload, issued_at, expires_at=None, challenge=None):
    """The message object (unchecked); encode() checks and seals it, tests tamper with it."""
    message = {"v": PROTOCOL_VERSION, "k": kind, "d": device_id, "e": epoch, "n": counter,
               "t": issued_at, "p": payload}
    if expires_at is not None:
        message["x"] = expires_at
    if challenge is not None:
        message["c"] = challenge
    return message


def encode(kind, device_id, epoch, counter, payload, key, issued_at, expires_at=None, challenge=None):
    """Check, encode and MAC a message: MAC || BODY bytes. `key` is the direction key (HmacKey or bytes:
    K_down on the cloud, K_up on the lock). Raises MessageError(code) for anything a receiver would refuse
    in steps 1-7, with the receiver's code. A lock uses encode_into() with its transmit buffer instead."""
    buffer = bytearray(MAX_MESSAGE_BYTES)
    length = encode_into(buffer, kind, device_id, epoch, counter, payload, key, issued_at, expires_at,
                         challenge)
    return bytes(memoryview(buffer)[:length])


def encode_into(buffer, kind, device_id, epoch, counter, payload, key, issued_at, expires_at=None,
                challenge=None):
    """encode() into `buffer` (a bytearray of MAX_MESSAGE_BYTES, allocated once): returns the message's
    length. Allocates nothing in proportion to the message."""
    if kind not in KINDS:
        raise MessageError("unknown_kind")
    message = build(kind, device_id, epoch, counter, payload, issued_at, expires_at, challenge)
    error = envelope_error(message, KINDS[kind][0], device_id, epoch) or payload_error(kind, payload)
    if error:
        raise MessageError(error)
    view = memoryview(buffer)
    try:
        end = MAC_HEX_CHARS + write_into(message, view[MAC_HEX_CHARS:MAX_MESSAGE_BYTES])
    except CanonicalTooLarge:
        raise MessageError("too_large")
    except CanonicalError:
        raise MessageError("not_canonical")
    body = view[MAC_HEX_CHARS:end]
    error = prescan.scan(body)
    if error:
        raise MessageError(error)
    view[:MAC_HEX_CHARS] = mac_hex(key, body)
    return end


# --- decoding ----------------------------------------------------------------------------------


def decode(raw, key, device_id, epoch, direction, last_counter):
    """Verify and parse one received message: steps 1-8 of docs/PROTOCOL.md, in that order.

    raw: the bytes received (bytes, bytearray or memoryview); key: the direction key of the sender (K_up
    on the cloud, K_down on the lock; HmacKey or bytes); device_id, epoch: whose traffic this must be;
    direction: UP when the cloud receives, DOWN when the lock receives; last_counter: the highest `n`
    accepted from this peer (0 if none), or None to skip the replay check (the cloud recognising a
    resync hello). Returns (message, None) or (None, error_code); never raises. The caller stores
    message["n"] as its new last counter, after its own checks (the lock: freshness_error()).
    """
    try:
        result = _decode(raw, key, device_id, epoch, direction, last_counter)
        if isinstance(result, str):
            return None, result
        return result, None
    except Exception:  # MemoryError included: a decoder never lets anything escape
        return _INTERNAL_ERROR


def _decode(raw, key, device_id, epoch, direction, last_counter):
    # Returns the message dict or an error code (str).
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        return "not_bytes"
    if len(raw) < MIN_MESSAGE_BYTES:
        return "too_short"
    if len(raw) > MAX_MESSAGE_BYTES:
        return "too_large"
    view = memoryview(raw)
    body = view[MAC_HEX_CHARS:]
    # The received MAC is compared as it stands: a prefix that is not lowercase hex simply does not match.
    if not compare_digest(view[:MAC_HEX_CHARS], mac_hex(key, body)):
        return "bad_signature"
    error = prescan.scan(body)
    if error:
        return error
    message = _parse(body)
    if isinstance(message, str):
        return message
    error = envelope_error(message, direction, device_id, epoch) or payload_error(message["k"], message["p"])
    if error:
        return error
    if last_counter is not None and message["n"] <= last_counter:
        return "replayed"
    return message


def _parse(body):
    # Steps 4 and 5: the message object, or not_json / not_object / not_canonical. A lenient parser
    # (MicroPython's) may accept what is not JSON; the strict grammar, run on this failure path only,
    # decides which refusal it is, so that both interpreters give the same code.
    try:
        message = json.loads(body if _LOADS_BUFFERS else bytes(body))
    except ValueError:  # not MemoryError: running out of heap is internal_error, never not_json
        message = None
    if isinstance(message, dict) and is_canonical(message, body):
        return message
    shape = strictjson.top_level(body)
    if shape is None:
        return "not_json"
    if shape != strictjson.OBJECT:
        return "not_object"
    return "not_canonical"


def is_counter_reset(message, last_counter):
    """The cloud's one exception to step 8 (docs/PROTOCOL.md "State loss"): True for an uplink `hello` with
    `resync: true` whose counter is not above the last accepted one, a lock that lost its state. The cloud
    decodes hellos with last_counter=None, accepts such a one as a counter reset (and audits it), and
    refuses any other message whose counter is not above the last as `replayed`."""
    return (message["k"] == "hello" and message["p"]["resync"] is True and last_counter is not None
            and message["n"] <= last_counter)


# --- step 9: freshness on the lock -------------------------------------------------------------


def freshness_error(message, now, trusted, nonce, nonce_age_s, resync):
    """Step 9 for a decoded downlink (docs/PROTOCOL.md "Time and freshness"): None or the code.

    now: the lock's clock (Unix seconds) or None; trusted: whether that clock is trusted; nonce: the hex
    of the lock's current challenge or None; nonce_age_s: its age in seconds or None; resync: whether the
    lock is in resync after losing its state.
    """
    challenge = message.get("c")
    if message["k"] == "time":
        # The only message that may set (or step back) the clock: bound to a fresh challenge, not to x.
        if nonce is None or challenge != nonce:
            return "wrong_challenge"
        if nonce_age_s is None or not 0 <= nonce_age_s <= TIME_CHALLENGE_TTL_S:
            return "stale_challenge"
        return None
    if not trusted or now is None:
        return "expiry_unverifiable"
    if now >= message["x"]:
        return "expired"
    if challenge is None:
        return "resync_required" if resync else None
    if challenge != nonce:
        return "wrong_challenge"
    return None


# --- rekey -------------------------------------------------------------------------------------


def _rekey_pad(down_key, counter):
    # A one-time pad per rekey message: its counter n is never reused under one K_down.
    return hmac_sha256(down_key, REKEY_LABEL + str(counter).encode())


def _xor(data, pad):
    out = bytearray(len(data))
    for i in range(len(data)):
        out[i] = data[i] ^ pad[i]
    return bytes(out)


def wrap_secret(new_secret, down_key, counter):
    """`rekey.wrapped`: hex of new_secret XOR HMAC-SHA256(K_down, "openakerun/v2/rekey/" + str(counter)),
    `counter` being the `n` of the rekey message that carries it, `down_key` the current K_down."""
    if len(new_secret) != SECRET_BYTES:
        raise MessageError("bad_secret_length")
    return binascii.hexlify(_xor(new_secret, _rekey_pad(down_key, counter))).decode()


def unwrap_secret(wrapped_hex, down_key, counter):
    """The new device secret (32 bytes) from a verified rekey's `wrapped` and `n`."""
    if not isinstance(wrapped_hex, str) or len(wrapped_hex) != 2 * SECRET_BYTES:
        raise MessageError("bad_field:p.wrapped")
    try:
        wrapped = binascii.unhexlify(wrapped_hex)
    except Exception:  # binascii raises different types on the two interpreters
        raise MessageError("bad_field:p.wrapped")
    return _xor(wrapped, _rekey_pad(down_key, counter))
