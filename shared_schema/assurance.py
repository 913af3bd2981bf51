# Assurance levels: how much a credential proves about who holds it (docs/PROTOCOL.md "Credentials").
# Kept apart from credentials.py because the lock never needs them and every byte of code there costs it heap.
# Levels, weakest first (a door may require a minimum; docs/SECURITY.md):
#   nuid       an identifier known not to be unique: a MIFARE NUID (4-byte UID whose first byte ends in
#              0xF) or a FeliCa IDm in the 02FE range any Android app may emulate (HCE-F)
#   uid        a card's UID or IDm: unique, but readable and clonable
#   token      a phone's random token, issued by the cloud
#   challenge  a phone key that answers a fresh challenge (mobile keys)
from shared_schema.credentials import KIND_PHONE

ASSURANCE_NUID = "nuid"
ASSURANCE_UID = "uid"
ASSURANCE_TOKEN = "token"
ASSURANCE_CHALLENGE = "challenge"
ASSURANCE_LEVELS = (ASSURANCE_NUID, ASSURANCE_UID, ASSURANCE_TOKEN, ASSURANCE_CHALLENGE)  # weakest first


def assurance(kind, normalized=None):
    """The assurance level of a credential of `kind`; `normalized` (from normalize()) lets identifiers
    that are known not to be unique be recognised as "nuid"."""
    if kind == KIND_PHONE:
        return ASSURANCE_TOKEN
    if normalized is not None and not_unique(normalized):
        return ASSURANCE_NUID
    return ASSURANCE_UID


def not_unique(normalized):
    """True for identifiers that many cards or phones may present (see the levels above)."""
    raw = normalized[1:]
    if normalized[:1] == b"A" and len(raw) == 4 and raw[0] & 0x0F == 0x0F:
        return True  # MIFARE NUID/ONUID/FNUID: 4-byte UIDs with UID0 = xF are not unique
    if normalized[:1] == b"F" and raw[:2] == b"\x02\xfe":
        return True  # HCE-F: Android lets any app choose an IDm in 02FE0000.. - 02FEFFFF..
    return False


def assurance_rank(level):
    """Position of `level` in ASSURANCE_LEVELS (higher is stronger); -1 if unknown."""
    return ASSURANCE_LEVELS.index(level) if level in ASSURANCE_LEVELS else -1
