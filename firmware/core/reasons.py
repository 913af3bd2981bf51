# Reason codes carried by decisions and events ([seq, ts, type, cred, reason] on the wire, <= 24 chars).
# The event log stores a reason as its index in REASONS (one byte); append only, never reorder, or
# records already on flash would change meaning. Anything not listed is stored as "other".
OK = "ok"  # granted: known credential, inside its validity and schedule
UNKNOWN_CREDENTIAL = "unknown_credential"  # not in the store (never issued, deleted or suspended)
STORE_UNAVAILABLE = "store_unavailable"  # store missing its checks: nobody can be verified
LOCKDOWN = "lockdown"  # lockdown mode: admins only
CLOCK_NOT_SET = "clock_not_set"  # time-limited grant, but the clock is not trusted
NOT_YET_VALID = "not_yet_valid"
EXPIRED = "expired"
OUTSIDE_SCHEDULE = "outside_schedule"
BAD_CREDENTIAL = "bad_credential"  # the reader's identifier cannot be a credential (see CredentialError)
NOT_PROVISIONED = "not_provisioned"  # no valid site key configured: nothing can be verified
SITE_UNKNOWN = "site_unknown"  # site settings lost after the cloud set them: lockdown, no time-limited grants
OFFSETS_EXPIRED = "offsets_expired"  # a schedule at a time past the UTC-offset table's `until`
STORAGE_ERROR = "storage_error"  # the flash failed: that one message or operation is refused

REASONS = (
    "", "other", OK, UNKNOWN_CREDENTIAL, STORE_UNAVAILABLE, LOCKDOWN, CLOCK_NOT_SET, NOT_YET_VALID,
    EXPIRED, OUTSIDE_SCHEDULE, BAD_CREDENTIAL,
    # credential refusals from shared_schema.credentials.normalize()
    "unknown_credential_kind", "bad_length_for_felica", "bad_length_for_iso14443a", "bad_length_for_phone",
    "blank_identifier", "random_uid", "cascade_tag_in_uid",
    # door, bolt and system events
    "door_sensor", "timer", "door_closed", "exit_button", "remote", "passage", "retry", "unlock_failed",
    "lock_failed", "power_on", "watchdog", "soft", "deep_sleep", "hard", "unknown", "normal", "store_corrupt",
    "state_corrupt", "not_provisioned", "jam_cleared",
    # protocol v2: trust and state loss
    SITE_UNKNOWN, OFFSETS_EXPIRED, STORAGE_ERROR, "site_corrupt", "keys_corrupt",
    "reprovisioned",
    # door forced open while the bolt was locked (event type tamper)
    "forced",
    # a phone's mobile key refused before its table entry (shared_schema.mobilekeys.PHONE_REFUSALS)
    "too_large", "truncated", "bad_format", "wrong_challenge", "stale_challenge", "replayed", "wrong_door",
    "key_outdated", "bad_payload", "bad_answer",
)


def index(reason):
    for i in range(len(REASONS)):
        if REASONS[i] == reason:
            return i
    return 1


def name(i):
    return REASONS[i] if i < len(REASONS) else "other"
