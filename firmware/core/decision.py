# The access decision: credential id -> table hash -> the credential's records -> verdict.
#
#   tap -> normalized identifier -> cred_id = HMAC(site_key, normalized)[:16]
#       -> table hash = HMAC(K_table, cred_id)[:16] (K_table of the live table's key generation)
#       -> every record of that hash: granted if ANY allows (in lockdown: any admin record)
#
# Pure logic over the store, the trusted time and the site settings; no I/O besides the store's reads and
# no allocation that depends on the table size (a credential has at most MAX_ENTRIES_PER_CRED records).
# Every refusal names its reason (core.reasons). Events carry the cred_id, never the table hash.
from core import reasons
from core.permformat import ROLE_ADMIN
from core.permread import STATUS_CORRUPT
from shared_schema.credentials import CredentialError, credential_hash_bytes, normalize, table_hash_bytes
from shared_schema.schedule import local_seconds, windows_allow
from shared_schema.vocabulary import MAX_ENTRIES_PER_CRED

MODE_NORMAL = "normal"
MODE_PASSAGE = "passage"
MODE_LOCKDOWN = "lockdown"
# Not a wire mode: the site settings were lost after the cloud had set them (core.site). Decided as lockdown,
# and time-limited grants are refused too, until config and time arrive again.
MODE_SITE_UNKNOWN = "site_unknown"


class Verdict:
    def __init__(self, granted, reason, cred=None, role=None):
        self.granted = granted
        self.reason = reason
        self.cred = cred  # 16-byte credential id, or None if the identifier was refused before hashing
        self.role = role


def credential_id(site_key, kind, identifier):
    """(16-byte cred_id, None) or (None, reason) for what a reader produced."""
    if not site_key:
        return None, reasons.NOT_PROVISIONED
    try:
        return credential_hash_bytes(site_key, normalize(kind, identifier)), None
    except CredentialError as exc:
        return None, str(exc)


def record_reason(store, now, offsets, until, mode):
    """Why the record the store just read does not open the door at `now`, or reasons.OK."""
    admin = store.role == ROLE_ADMIN
    if mode == MODE_SITE_UNKNOWN and not admin:
        return reasons.SITE_UNKNOWN
    if mode == MODE_LOCKDOWN and not admin:
        return reasons.LOCKDOWN
    return limits_reason(store.valid_from, store.valid_until, store.windows if store.schedule != 0 else None,
                         now, offsets, until, mode)


def limits_reason(valid_from, valid_until, windows_of, now, offsets, until, mode):
    """Why validity [valid_from, valid_until) (0 = unbounded) and the weekly windows `windows_of()` returns
    (None: no windows; a callable so that the store reads them only when needed) do not allow `now`, or
    reasons.OK. A card's record and a phone key's own payload are held to the same rules."""
    if not (valid_from or valid_until or windows_of):
        return reasons.OK  # always valid: needs no clock
    if mode == MODE_SITE_UNKNOWN:
        return reasons.SITE_UNKNOWN
    if now is None:
        return reasons.CLOCK_NOT_SET
    if valid_from and now < valid_from:
        return reasons.NOT_YET_VALID
    if valid_until and now >= valid_until:
        return reasons.EXPIRED
    if windows_of is not None:
        if until is not None and now >= until:
            return reasons.OFFSETS_EXPIRED  # local time past the known offset table: fail closed
        if not windows_allow(windows_of(), local_seconds(offsets, now)):
            return reasons.OUTSIDE_SCHEDULE
    return reasons.OK


def decide(store, key, now, offsets, until, mode, cred=None):
    """Verdict for table hash `key` at trusted Unix time `now` (None: not trusted). `until`: the offset
    table is known up to then (None: no limit). `cred`: the cred_id the verdict carries."""
    if store.status == STATUS_CORRUPT:
        return Verdict(False, reasons.STORE_UNAVAILABLE, cred)
    index = store.find(key)
    if index < 0:
        # Suspended and deleted users are simply absent from the store: same answer as never issued.
        return Verdict(False, reasons.UNKNOWN_CREDENTIAL, cred)
    refusal, role = None, None
    end = index + MAX_ENTRIES_PER_CRED
    while index < end and store.record(index, key):
        reason = record_reason(store, now, offsets, until, mode)
        if reason == reasons.OK:
            return Verdict(True, reasons.OK, cred, store.role)
        # lockdown only if every record was refused for it; otherwise the first other refusal
        if refusal is None or (refusal == reasons.LOCKDOWN and reason != reasons.LOCKDOWN):
            refusal, role = reason, store.role
        index += 1
    return Verdict(False, refusal, cred, role)


def tap_verdict(store, site_key, table_key, kind, identifier, now, offsets, until, mode):
    """The whole tap path: identifier -> cred_id -> table hash -> decide(). `table_key`: the HmacKey of
    the live table's generation, None when this lock no longer holds that secret (keys.bin lost)."""
    cred, error = credential_id(site_key, kind, identifier)
    if cred is None:
        return Verdict(False, error if error in reasons.REASONS else reasons.BAD_CREDENTIAL)
    return table_verdict(store, table_key, cred, now, offsets, until, mode)


def table_verdict(store, table_key, cred, now, offsets, until, mode):
    """decide() for credential id `cred` with the live table's K_table (None: keys.bin lost)."""
    if store.status == STATUS_CORRUPT or (table_key is None and store.count):
        return Verdict(False, reasons.STORE_UNAVAILABLE, cred)
    if table_key is None:
        return Verdict(False, reasons.UNKNOWN_CREDENTIAL, cred)
    return decide(store, table_hash_bytes(table_key, cred), now, offsets, until, mode, cred)


def phone_verdict(store, table_key, checked, now, offsets, until, mode):
    """A phone's presentation after core.mobilekey checked it (`checked`: its CheckResult): the key's own
    validity and windows, then the table entry of its key id, exactly as a card's (role, validity, windows,
    lockdown; a revoked key is no longer in the table: unknown_credential)."""
    if checked.reason is not None:
        return Verdict(False, checked.reason, checked.key_id)
    windows = checked.windows
    reason = limits_reason(checked.valid_from, checked.valid_until, (lambda: windows) if windows else None,
                           now, offsets, until, mode)
    if reason != reasons.OK:
        return Verdict(False, reason, checked.key_id)
    return table_verdict(store, table_key, checked.key_id, now, offsets, until, mode)
