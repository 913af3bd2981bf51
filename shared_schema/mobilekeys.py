# Mobile keys: a phone opens a door over BLE by answering the lock's challenge (docs/PROTOCOL.md
# "Mobile keys").
#
# The cloud issues a key: a random key id (the credential id the locks' tables hold), a random 32-byte
# secret k that only the phone keeps, and for each lock d it covers a ticket MAC'd under that lock's
# K_mobile:
#
#   K_mobile_d = HMAC(device_secret_d, "openakerun/v2/mobile")          per lock and key generation
#   k_d        = HMAC(k, "door/" + device_id)[:16]                      the phone's secret for that lock
#   wrap_d     = k_d XOR HMAC(K_mobile_d, "wrap" + key_id)[:16]         lets lock d (only) recover k_d
#   body_d     = device_id SP g SP wrap_hex SP common                   common: canonical JSON of the key
#   mac_d      = HMAC(K_mobile_d, body_d)[:16]
#
# At the door the lock offers a fresh challenge c (16 random bytes, single use) and the phone sends
#
#   presentation = c_hex SP answer_hex SP mac_hex SP body_d
#   answer       = HMAC(k_d, c + device_id + key_id)[:16]
#
# Everything here is plain Python for both interpreters: the lock uses the derivations, the cloud and the
# phone player (tools) the builders. Hex is lowercase; every field is printable ASCII.
import binascii

from shared_schema.hmac_sha256 import HmacKey, hmac_sha256

VERSION = 1  # the "v" of the common part
LABEL_MOBILE = b"openakerun/v2/mobile"
LABEL_DOOR = b"door/"
LABEL_WRAP = b"wrap"
KEY_ID_BYTES = 16
KEY_SECRET_BYTES = 32
DOOR_SECRET_BYTES = 16
MAC_BYTES = 16
CHALLENGE_BYTES = 16
HEX16 = 32  # hex characters of a 16-byte value
# A presentation is bounded so that a lock can assemble it in one preallocated buffer (BLE writes arrive in
# chunks): the largest common part (8 windows, every number at its widest) leaves room to spare.
MAX_PRESENTATION_BYTES = 512
# The fixed head: c_hex SP answer_hex SP mac_hex SP
HEAD_BYTES = 3 * (HEX16 + 1)
MAX_GENERATION = 0xFFFFFFFF
# A challenge is answered within this many seconds of being issued, once.
CHALLENGE_TTL_S = 15
# A key covers at most this many doors (one ticket each); a zone with more doors takes several keys.
MAX_KEY_DOORS = 16
# BLE writes of a presentation: the first byte of each says which part it is.
PART_SINGLE = "S"  # the whole presentation in one write
PART_FIRST = "F"
PART_MIDDLE = "M"
PART_LAST = "L"
PARTS = (PART_SINGLE, PART_FIRST, PART_MIDDLE, PART_LAST)

# Refusals only a phone can get (besides the decision's reasons: expired, unknown_credential, ...).
TOO_LARGE = "too_large"  # more than MAX_PRESENTATION_BYTES
TRUNCATED = "truncated"  # ended before its fixed fields
BAD_FORMAT = "bad_format"  # a fixed field is not what it must be (hex, digits, separators)
WRONG_CHALLENGE = "wrong_challenge"  # not the lock's current challenge
STALE_CHALLENGE = "stale_challenge"  # the current challenge, answered too late (spent now)
REPLAYED = "replayed"  # a challenge already answered
WRONG_DOOR = "wrong_door"  # a ticket for another lock
KEY_OUTDATED = "key_outdated"  # issued under a device secret this lock no longer holds (rotated): re-issue
BAD_PAYLOAD = "bad_payload"  # the ticket's MAC does not verify (altered, forged) or its content is unusable
BAD_ANSWER = "bad_answer"  # the ticket is genuine but the answer is not from the key's secret
PHONE_REFUSALS = (
    TOO_LARGE, TRUNCATED, BAD_FORMAT, WRONG_CHALLENGE, STALE_CHALLENGE, REPLAYED, WRONG_DOOR, KEY_OUTDATED,
    BAD_PAYLOAD, BAD_ANSWER,
)


def mobile_key(device_secret):
    """K_mobile of a lock (HmacKey): keys its tickets and wraps; derived like K_table."""
    return HmacKey(hmac_sha256(device_secret, LABEL_MOBILE))


def door_secret(key_secret, device_id):
    """k_d: the phone's 16-byte secret for the lock `device_id` (bytes), from the key's secret k."""
    return hmac_sha256(key_secret, LABEL_DOOR + device_id)[:DOOR_SECRET_BYTES]


def wrap_pad(k_mobile, key_id):
    return hmac_sha256(k_mobile, LABEL_WRAP + key_id)[:DOOR_SECRET_BYTES]


def xor16(a, b):
    out = bytearray(DOOR_SECRET_BYTES)
    for i in range(DOOR_SECRET_BYTES):
        out[i] = a[i] ^ b[i]
    return bytes(out)


def ticket_mac(k_mobile, body):
    """The 16-byte MAC of a ticket body (bytes or memoryview) under the lock's K_mobile."""
    return hmac_sha256(k_mobile, body)[:MAC_BYTES]


def answer(k_door, challenge, device_id, key_id):
    """The phone's answer to `challenge` (16 raw bytes) at lock `device_id` (bytes) for key `key_id` (16)."""
    return hmac_sha256(k_door, challenge + device_id + key_id)[:MAC_BYTES]


def hexstr(data):
    return binascii.hexlify(data).decode()


def ticket_body(device_id, generation, wrap_hex, common):
    """The bytes a ticket's MAC covers: device_id SP g SP wrap_hex SP common (all text)."""
    return ("%s %d %s %s" % (device_id, generation, wrap_hex, common)).encode()


def presentation(challenge_hex, answer_hex, mac_hex, body):
    """What the phone sends: c_hex SP answer_hex SP mac_hex SP body (body: bytes)."""
    return ("%s %s %s " % (challenge_hex, answer_hex, mac_hex)).encode() + body
