# The access decision: credential hash -> store lookup -> mode, validity and schedule -> verdict.
#
# Pure logic over the store, the current time and the site settings; no I/O besides the store's lookup
# and no allocation that depends on the table size. Every refusal names its reason (core.reasons).
from core import reasons
from core.permformat import ROLE_ADMIN
from core.permread import STATUS_CORRUPT
from shared_schema.credentials import CredentialError, credential_hash_bytes, normalize
from shared_schema.schedule import is_time_limited, local_seconds, windows_allow

MODE_NORMAL = "normal"
MODE_PASSAGE = "passage"
MODE_LOCKDOWN = "lockdown"


class Verdict:
    def __init__(self, granted, reason, cred=None, role=None):
        self.granted = granted
        self.reason = reason
        self.cred = cred  # 16-byte credential hash, or None if the identifier was refused before hashing
        self.role = role


def credential_key(site_key, kind, identifier):
    """(16-byte hash, None) or (None, reason) for what a reader produced."""
    if not site_key:
        return None, reasons.NOT_PROVISIONED
    try:
        return credential_hash_bytes(site_key, normalize(kind, identifier)), None
    except CredentialError as exc:
        return None, str(exc)


def decide(store, key, now, offsets, mode):
    """Verdict for credential hash `key` at Unix time `now` (None: clock never set since boot)."""
    if store.status == STATUS_CORRUPT:
        return Verdict(False, reasons.STORE_UNAVAILABLE, key)
    if not store.lookup(key):
        # Suspended and deleted users are simply absent from the store: same answer as never issued.
        return Verdict(False, reasons.UNKNOWN_CREDENTIAL, key)
    role = store.role
    if mode == MODE_LOCKDOWN and role != ROLE_ADMIN:
        return Verdict(False, reasons.LOCKDOWN, key, role)
    valid_from, valid_until, has_schedule = store.valid_from, store.valid_until, store.schedule != 0
    if is_time_limited(valid_from, valid_until, has_schedule):
        if now is None:
            return Verdict(False, reasons.CLOCK_NOT_SET, key, role)
        if valid_from and now < valid_from:
            return Verdict(False, reasons.NOT_YET_VALID, key, role)
        if valid_until and now >= valid_until:
            return Verdict(False, reasons.EXPIRED, key, role)
        if has_schedule and not windows_allow(store.windows(), local_seconds(offsets, now)):
            return Verdict(False, reasons.OUTSIDE_SCHEDULE, key, role)
    return Verdict(True, reasons.OK, key, role)


def tap_verdict(store, site_key, kind, identifier, now, offsets, mode):
    """The whole tap path: identifier -> keyed hash -> decide()."""
    key, error = credential_key(site_key, kind, identifier)
    if key is None:
        return Verdict(False, error if error in reasons.REASONS else reasons.BAD_CREDENTIAL)
    return decide(store, key, now, offsets, mode)
