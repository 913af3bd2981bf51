# The key file a phone keeps (docs/PROTOCOL.md "Mobile keys"): made once by the cloud, read by a phone app
# or by `python -m tools phone`. Built on shared_schema.mobilekeys; the lock never needs this module.
#
#   {"format": "openakerun-mobile-key", "v": 1, "key_id": hex32, "secret": hex64, "user_id": int,
#    "label": str, "valid_from": int, "valid_until": int, "windows": [[days, start, end], ...],
#    "common": "<the canonical JSON text every ticket carries>",
#    "locks": [{"device_id": str, "door_id": int, "g": int, "wrap": hex32, "mac": hex32}, ...]}
import binascii

from shared_schema import mobilekeys as mk
from shared_schema.canonical import canonical_bytes

FORMAT = "openakerun-mobile-key"


class KeyFileError(ValueError):
    """A key file a phone cannot use; str(error) says why."""


def common_text(key_id, user_id, valid_from, valid_until, windows):
    """The common part of every ticket of a key: canonical JSON (keys f k t u v win)."""
    value = {"f": valid_from, "k": mk.hexstr(key_id), "t": valid_until, "u": user_id, "v": mk.VERSION,
             "win": [list(window) for window in windows]}
    return canonical_bytes(value).decode()


def lock_ticket(device_secret, generation, device_id, key_id, key_secret, common):
    """The ticket of one lock: what the lock needs to check a phone holding `key_secret`, MAC'd for it."""
    k_mobile = mk.mobile_key(device_secret)
    k_door = mk.door_secret(key_secret, device_id.encode())
    wrap = mk.xor16(k_door, mk.wrap_pad(k_mobile, key_id))
    body = mk.ticket_body(device_id, generation, mk.hexstr(wrap), common)
    return {"device_id": device_id, "g": generation, "wrap": mk.hexstr(wrap),
            "mac": mk.hexstr(mk.ticket_mac(k_mobile, body))}


def key_file(key_id, key_secret, user_id, label, valid_from, valid_until, windows, common, tickets):
    return {"format": FORMAT, "v": mk.VERSION, "key_id": mk.hexstr(key_id), "secret": mk.hexstr(key_secret),
            "user_id": user_id, "label": label, "valid_from": valid_from, "valid_until": valid_until,
            "windows": windows, "common": common, "locks": tickets}


def ticket_for(keyfile, device_id):
    """The key file's ticket for lock `device_id`, or None."""
    for ticket in keyfile.get("locks", []):
        if ticket.get("device_id") == device_id:
            return ticket
    return None


def _secret(keyfile):
    if keyfile.get("format") != FORMAT or keyfile.get("v") != mk.VERSION:
        raise KeyFileError("not an openakerun mobile key file (format/v)")
    try:
        key_id = binascii.unhexlify(keyfile["key_id"])
        secret = binascii.unhexlify(keyfile["secret"])
    except (KeyError, TypeError, ValueError):
        raise KeyFileError("key_id/secret missing or not hex") from None
    if len(key_id) != mk.KEY_ID_BYTES or len(secret) != mk.KEY_SECRET_BYTES:
        raise KeyFileError("key_id must be 16 bytes, secret 32")
    return key_id, secret


def presentation(keyfile, ticket, device_id, challenge_hex):
    """What the phone sends to lock `device_id` for its challenge: the ticket (normally the lock's own;
    another one only to see the lock refuse it) and the answer computed with the key's secret."""
    key_id, secret = _secret(keyfile)
    challenge = binascii.unhexlify(challenge_hex)
    k_door = mk.door_secret(secret, device_id.encode())
    answer = mk.answer(k_door, challenge, device_id.encode(), key_id)
    body = mk.ticket_body(ticket["device_id"], ticket["g"], ticket["wrap"], keyfile["common"])
    return mk.presentation(challenge_hex, mk.hexstr(answer), ticket["mac"], body)
