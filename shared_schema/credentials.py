# Credentials: what a reader produces, its normalized form, and the keyed hash the lock stores.
#
# The lock never stores or receives a raw identifier: the cloud sends HMAC-SHA256(site_key,
# normalized) truncated to HASH_BYTES, and the lock computes the same hash from what its reader saw.
#
# Normalized form = one kind byte + the raw identifier bytes:
#   FeliCa IDm        b"F" + 8 bytes                  assurance "uid" (IDm is readable by anyone, clonable)
#   ISO14443A UID     b"A" + 4, 7 or 10 bytes         assurance "uid" (UID is clonable)
#   phone             b"P" + 16 bytes                 assurance "token" (a random secret token issued
#                                                     by the cloud and held by the phone app)
#
# Assurance levels (how strong a credential is) are in shared_schema/assurance.py: the lock never needs them.
import binascii

from shared_schema.hmac_sha256 import HmacKey, hmac_sha256

KIND_FELICA = "felica"
KIND_ISO14443A = "iso14443a"
KIND_PHONE = "phone"
KINDS = (KIND_FELICA, KIND_ISO14443A, KIND_PHONE)

HASH_BYTES = 16  # 128 bits: ample for a lookup key; halves the lock's flash per credential
# K_table = HMAC(device_secret, this): keys the lock's own permission table (docs/PROTOCOL.md "Keys").
TABLE_KEY_LABEL = b"openakerun/v2/table"
HASH_HEX_CHARS = HASH_BYTES * 2
SITE_KEY_MIN_BYTES = 16

_PREFIX = {KIND_FELICA: b"F", KIND_ISO14443A: b"A", KIND_PHONE: b"P"}
_LENGTHS = {KIND_FELICA: (8,), KIND_ISO14443A: (4, 7, 10), KIND_PHONE: (16,)}
_SEPARATORS = (":", "-", " ")

# A 4-byte UID starting with 0x08 is a random ID, different at every tap: it can never identify a card.
_RANDOM_UID_FIRST_BYTE = 0x08
# 0x88 is the cascade tag; it never starts a real 7- or 10-byte UID as reported by a reader.
_CASCADE_TAG = 0x88


class CredentialError(ValueError):
    """A credential that cannot be used; str(error) is a specific, stable code (docs/PROTOCOL.md)."""


def parse_identifier(text):
    """Hex text (any case, ':' '-' or ' ' separators allowed) -> bytes; raises CredentialError."""
    if not isinstance(text, str):
        raise CredentialError("identifier_not_text")
    for sep in _SEPARATORS:
        text = text.replace(sep, "")
    if not text or len(text) % 2:
        raise CredentialError("identifier_not_hex")
    try:
        return binascii.unhexlify(text)
    except Exception:  # binascii raises different types on the two interpreters
        raise CredentialError("identifier_not_hex")


def normalize(kind, identifier):
    """Return the normalized bytes of a credential; `identifier` is bytes or hex text."""
    if kind not in _PREFIX:
        raise CredentialError("unknown_credential_kind")
    raw = identifier if isinstance(identifier, (bytes, bytearray)) else parse_identifier(identifier)
    raw = bytes(raw)
    if len(raw) not in _LENGTHS[kind]:
        raise CredentialError("bad_length_for_" + kind)
    if raw == bytes(len(raw)) or raw == b"\xff" * len(raw):
        raise CredentialError("blank_identifier")
    if kind == KIND_ISO14443A:
        if len(raw) == 4 and raw[0] == _RANDOM_UID_FIRST_BYTE:
            raise CredentialError("random_uid")
        if raw[0] == _CASCADE_TAG:
            raise CredentialError("cascade_tag_in_uid")
    return _PREFIX[kind] + raw


def credential_hash(site_key, kind, identifier):
    """The lookup key the lock stores: hex of HMAC-SHA256(site_key, normalize(kind, identifier))[:16]."""
    if len(site_key) < SITE_KEY_MIN_BYTES:
        raise CredentialError("site_key_too_short")
    digest = hmac_sha256(site_key, normalize(kind, identifier))
    return binascii.hexlify(digest[:HASH_BYTES]).decode()


def credential_hash_bytes(site_key, normalized):
    """16-byte hash of already-normalized bytes. `site_key` is bytes, or an HmacKey made once at boot so
    that the tap path does not redo the key's HMAC padding (8x faster on MicroPython, half the allocation)."""
    return hmac_sha256(site_key, normalized)[:HASH_BYTES]



def table_key(device_secret):
    """K_table of a lock, padded once (HmacKey): what its permission table is keyed with."""
    return HmacKey(hmac_sha256(device_secret, TABLE_KEY_LABEL))


def table_hash_bytes(key, cred_id):
    """The 16-byte key of a credential in one lock's table: HMAC(K_table, cred_id)[:16].
    `cred_id` is the 16-byte credential id (credential_hash_bytes); `key` an HmacKey from table_key()."""
    return hmac_sha256(key, cred_id)[:HASH_BYTES]


def table_hash(key, cred_id_hex):
    """Hex table hash for a hex credential id (what snap/delta entries carry)."""
    return binascii.hexlify(table_hash_bytes(key, binascii.unhexlify(cred_id_hex))).decode()
