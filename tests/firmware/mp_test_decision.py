# micropython-test heapsize=100K
# Decision tables for core.decision on the real MicroPython interpreter: schedules across midnight, weekday
# edges, validity boundaries, UTC-offset changes and their expiry, unknown/suspended credentials, lockdown,
# lost site settings, passage mode, an untrusted clock, and credentials with several entries (the exact
# union of their grants). The store is a real on-flash PermStore (host fs); its keys are table hashes.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
from tests.firmware import fwenv

from core import permformat, reasons
from core.decision import decide, tap_verdict
from core.permstore import PermStore

MON = 1795392000  # 2026-11-23 00:00 UTC, a Monday
DAY = 86400
H = 3600
M = 60
T0 = MON + 3 * DAY  # validity tests
UTC = [[0, 0]]

# credential number -> (role, valid_from, valid_until, windows)
GRANTS = {
    1: (0, 0, 0, []),  # normal, any time
    2: (1, 0, 0, []),  # admin, any time
    3: (0, 0, 0, [[0x1F, 9 * 60, 18 * 60]]),  # Mon-Fri 09:00-18:00
    4: (0, 0, 0, [[0x10, 22 * 60, 2 * 60]]),  # Friday 22:00 until Saturday 02:00
    5: (0, T0 + 100, T0 + 200, []),  # validity only
    6: (0, 0, 0, []),  # suspended later (deleted by a delta)
    7: (1, 0, 0, [[0x1F, 9 * 60, 18 * 60]]),  # admin with a schedule
    8: (0, 0, 0, [[0x40, 0, 1440]]),  # all of Sunday
}


def _entries(numbers):
    out = []
    for n in numbers:
        role, valid_from, valid_until, windows = GRANTS[n]
        out.append([fwenv.cred_key(n)[1], role, valid_from, valid_until, windows])
    out.sort(key=lambda e: e[0])
    return out


_STATE = {}


def _store():
    if "store" not in _STATE:
        d = fwenv.temp_dir()
        store = PermStore(d)
        assert fwenv.install_snapshot(store, 1, _entries(sorted(GRANTS)), size=3) == "applied"
        _STATE["store"], _STATE["dir"] = store, d
    return _STATE["store"]


def _reason(n, now, offsets=UTC, mode="normal", until=None):
    verdict = decide(_store(), fwenv.cred_key(n)[0], now, offsets, until, mode)
    assert verdict.granted == (verdict.reason == reasons.OK)
    return verdict.reason


def test_always_valid_grant_works_with_unset_clock():
    assert _reason(1, None) == reasons.OK
    assert _reason(2, None) == reasons.OK


def test_time_limited_grants_refused_while_clock_never_set():
    for n in (3, 4, 5, 7, 8):
        assert _reason(n, None) == reasons.CLOCK_NOT_SET, n


def test_weekday_window_edges():
    assert _reason(3, MON + 9 * H) == reasons.OK
    assert _reason(3, MON + 9 * H - 1) == reasons.OUTSIDE_SCHEDULE
    assert _reason(3, MON + 18 * H - 1) == reasons.OK
    assert _reason(3, MON + 18 * H) == reasons.OUTSIDE_SCHEDULE
    assert _reason(3, MON + 4 * DAY + 17 * H) == reasons.OK  # Friday
    assert _reason(3, MON + 5 * DAY + 10 * H) == reasons.OUTSIDE_SCHEDULE  # Saturday
    assert _reason(3, MON + 6 * DAY + 10 * H) == reasons.OUTSIDE_SCHEDULE  # Sunday


def test_sunday_whole_day_edges():
    sunday = MON + 6 * DAY
    assert _reason(8, sunday) == reasons.OK
    assert _reason(8, sunday + DAY - 1) == reasons.OK
    assert _reason(8, sunday + DAY) == reasons.OUTSIDE_SCHEDULE  # next Monday 00:00
    assert _reason(8, sunday - 1) == reasons.OUTSIDE_SCHEDULE  # Saturday 23:59:59


def test_window_across_midnight():
    friday = MON + 4 * DAY
    assert _reason(4, friday + 22 * H) == reasons.OK
    assert _reason(4, friday + 22 * H - 1) == reasons.OUTSIDE_SCHEDULE
    assert _reason(4, friday + DAY + 1 * H + 59 * M) == reasons.OK  # Saturday 01:59
    assert _reason(4, friday + DAY + 2 * H) == reasons.OUTSIDE_SCHEDULE  # Saturday 02:00
    assert _reason(4, friday + DAY + 23 * H) == reasons.OUTSIDE_SCHEDULE  # Saturday evening: not masked
    assert _reason(4, MON + 3 * DAY + 23 * H) == reasons.OUTSIDE_SCHEDULE  # Thursday evening
    assert _reason(4, MON + 1 * H) == reasons.OUTSIDE_SCHEDULE  # Monday 01:00 (Sunday not masked)


def test_validity_boundaries():
    assert _reason(5, T0 + 99) == reasons.NOT_YET_VALID
    assert _reason(5, T0 + 100) == reasons.OK
    assert _reason(5, T0 + 199) == reasons.OK
    assert _reason(5, T0 + 200) == reasons.EXPIRED


def test_schedule_uses_site_local_time():
    tokyo = [[0, 540]]
    assert _reason(3, MON, tokyo) == reasons.OK  # 09:00 in Tokyo
    assert _reason(3, MON - 1, tokyo) == reasons.OUTSIDE_SCHEDULE  # Monday 08:59:59 local
    assert _reason(3, MON - 1, UTC) == reasons.OUTSIDE_SCHEDULE  # Sunday in UTC
    new_york = [[0, -300]]
    assert _reason(3, MON + 14 * H, new_york) == reasons.OK  # 09:00 local
    assert _reason(3, MON + 14 * H - 1, new_york) == reasons.OUTSIDE_SCHEDULE


def test_utc_offset_change_moves_the_window():
    # The offset becomes +60 min at Monday 17:00 UTC (a DST change): 16:59 UTC is 16:59 local (open),
    # 17:00 UTC is already 18:00 local (closed).
    table = [[0, 0], [MON + 17 * H, 60]]
    assert _reason(3, MON + 17 * H - 1, table) == reasons.OK
    assert _reason(3, MON + 17 * H, table) == reasons.OUTSIDE_SCHEDULE
    # and the other way: falling back extends the morning closure
    table = [[0, 60], [MON + 8 * H + 30 * M, 0]]
    assert _reason(3, MON + 8 * H + 30 * M - 1, table) == reasons.OK  # 08:29:59 UTC = 09:29:59 local
    assert _reason(3, MON + 8 * H + 30 * M, table) == reasons.OUTSIDE_SCHEDULE  # 08:30 local


def test_unknown_credential():
    key = fwenv.cred_key(999)[0]
    assert decide(_store(), key, MON, UTC, None, "normal").reason == reasons.UNKNOWN_CREDENTIAL
    assert decide(_store(), key, None, UTC, None, "lockdown").reason == reasons.UNKNOWN_CREDENTIAL


def test_lockdown_admits_admins_only():
    assert _reason(1, MON + 10 * H, mode="lockdown") == reasons.LOCKDOWN
    assert _reason(3, MON + 10 * H, mode="lockdown") == reasons.LOCKDOWN
    assert _reason(2, MON + 10 * H, mode="lockdown") == reasons.OK
    assert _reason(2, None, mode="lockdown") == reasons.OK
    assert _reason(7, MON + 10 * H, mode="lockdown") == reasons.OK
    # an admin's own schedule still applies in lockdown
    assert _reason(7, MON + 20 * H, mode="lockdown") == reasons.OUTSIDE_SCHEDULE


def test_passage_mode_decides_like_normal():
    assert _reason(1, MON, mode="passage") == reasons.OK
    assert _reason(3, MON + 20 * H, mode="passage") == reasons.OUTSIDE_SCHEDULE
    key = fwenv.cred_key(999)[0]
    assert decide(_store(), key, MON, UTC, None, "passage").reason == reasons.UNKNOWN_CREDENTIAL


def test_suspended_user_is_absent_after_delta():
    d = fwenv.temp_dir()
    store = PermStore(d)
    assert fwenv.install_snapshot(store, 1, _entries([1, 6])) == "applied"
    key6 = fwenv.cred_key(6)[0]
    assert decide(store, key6, None, UTC, None, "normal").reason == reasons.OK
    assert store.apply_delta(1, 2, [], [fwenv.cred_key(6)[1]]) == "applied"
    assert decide(store, key6, None, UTC, None, "normal").reason == reasons.UNKNOWN_CREDENTIAL
    assert decide(store, fwenv.cred_key(1)[0], None, UTC, None, "normal").reason == reasons.OK
    store.close()
    fwenv.remove_tree(d)


def _tap(store, site_key, kind, uid, now=MON, table_key=None):
    key = fwenv.table_key() if table_key is None else table_key
    return tap_verdict(store, site_key, key, kind, uid, now, UTC, None, "normal")


def test_tap_path_uses_the_table_hash_and_reports_the_cred_id():
    d = fwenv.temp_dir()
    store = PermStore(d)
    entries = sorted([[fwenv.table_hash(n), 0, 0, 0, []] for n in (1, 2)])
    assert fwenv.install_snapshot(store, 1, entries) == "applied"
    verdict = _tap(store, fwenv.SITE_KEY, "iso14443a", fwenv.uid(1))
    assert verdict.granted and verdict.cred == fwenv.cred_key(1)[0]  # events carry the cred_id
    # the same table read with another lock's K_table finds nobody
    other = fwenv.table_key(b"\x55" * 32)
    verdict = _tap(store, fwenv.SITE_KEY, "iso14443a", fwenv.uid(1), table_key=other)
    assert verdict.reason == "unknown_credential"
    # a table this lock cannot read (its generation's secret is gone): nobody, reported as unavailable
    verdict = tap_verdict(store, fwenv.SITE_KEY, None, "iso14443a", fwenv.uid(1), MON, UTC, None, "normal")
    assert verdict.reason == "store_unavailable"
    store.close()
    fwenv.remove_tree(d)


def test_reader_input_refusals():
    store = _store()
    random_uid = b"\x08\x12\x34\x56"
    assert _tap(store, fwenv.SITE_KEY, "iso14443a", random_uid).reason == "random_uid"
    assert _tap(store, fwenv.SITE_KEY, "magstripe", b"1234").reason == "unknown_credential_kind"
    assert _tap(store, fwenv.SITE_KEY, "felica", b"\x01\x02").reason == "bad_length_for_felica"
    assert _tap(store, None, "iso14443a", fwenv.uid(1)).reason == "not_provisioned"
    verdict = _tap(store, fwenv.SITE_KEY, "iso14443a", fwenv.uid(999))
    assert verdict.reason == "unknown_credential" and verdict.cred == fwenv.cred_key(999)[0]


def test_offsets_past_until_fail_closed_for_schedules_only():
    until = MON + 12 * H
    assert _reason(3, MON + 10 * H, until=until) == reasons.OK
    assert _reason(3, MON + 12 * H, until=until) == reasons.OFFSETS_EXPIRED
    assert _reason(5, T0 + 150, until=until) == reasons.OK  # validity is UTC: no offsets needed
    assert _reason(1, MON + 13 * H, until=until) == reasons.OK


def test_unknown_site_decides_as_lockdown_without_time_limited_grants():
    assert _reason(1, MON + 10 * H, mode="site_unknown") == reasons.SITE_UNKNOWN
    assert _reason(2, MON + 10 * H, mode="site_unknown") == reasons.OK  # an always-valid admin
    assert _reason(7, MON + 10 * H, mode="site_unknown") == reasons.SITE_UNKNOWN  # admin, but scheduled


def test_corrupt_store_denies_everyone():
    d = fwenv.temp_dir()
    store = PermStore(d)
    assert fwenv.install_snapshot(store, 1, _entries([1, 2])) == "applied"
    store.close()
    with open(d + "/perm.db", "r+b") as f:
        f.seek(20)
        f.write(b"\x00\x01")
    store = PermStore(d)
    assert store.status == "corrupt"
    for n in (1, 2):
        for mode in ("normal", "lockdown"):
            verdict = decide(store, fwenv.cred_key(n)[0], MON, UTC, None, mode)
            assert verdict.reason == reasons.STORE_UNAVAILABLE
    store.close()
    fwenv.remove_tree(d)


# --- several entries per credential: the exact union of its grants -------------------------------------

GUEST_FROM, GUEST_UNTIL = MON + 2 * DAY + 9 * H, MON + 3 * DAY + 17 * H  # Wednesday 09:00 - Thursday 17:00
NIGHTS = [[0x7F, 22 * 60, 6 * 60]]  # every night 22:00 - 06:00


def _multi_store():
    if "multi" not in _STATE:
        d = fwenv.temp_dir()
        store = PermStore(d)
        guest_and_nights = [[_hex(1), 0, 0, 0, NIGHTS], [_hex(1), 0, GUEST_FROM, GUEST_UNTIL, []]]
        mixed_roles = [[_hex(2), 0, 0, 0, []], [_hex(2), 1, 0, 0, [[0x1F, 9 * 60, 18 * 60]]]]
        normal_only = [[_hex(3), 0, 0, 0, []], [_hex(3), 0, 0, MON, []]]
        lockdown_then_expired = [[_hex(4), 0, 0, 0, []], [_hex(4), 1, 0, MON, []]]
        entries = sorted(guest_and_nights + mixed_roles + normal_only + lockdown_then_expired)
        assert fwenv.install_snapshot(store, 1, entries) == "applied"
        _STATE["multi"], _STATE["multi_dir"] = store, d
    return _STATE["multi"]


def _hex(n):
    return fwenv.fake_hash(n)


def _multi(n, now, mode="normal"):
    verdict = decide(_multi_store(), permformat.entry_hash([_hex(n)]), now, UTC, None, mode)
    assert verdict.granted == (verdict.reason == reasons.OK)
    return verdict


def test_guest_pass_and_night_windows_open_exactly_in_each():
    assert _multi_store().records_of(permformat.entry_hash([_hex(1)])) == 2
    opened = 0
    for step in range(7 * 48):  # every half hour of a week, and a minute either side of it
        for now in (MON + step * 1800 - 60, MON + step * 1800, MON + step * 1800 + 60):
            minute = (now % DAY) // 60
            in_night = minute >= 22 * 60 or minute < 6 * 60
            in_guest = GUEST_FROM <= now < GUEST_UNTIL
            verdict = _multi(1, now)
            assert verdict.granted == (in_night or in_guest), (now, verdict.reason)
            opened += verdict.granted
            if not verdict.granted:
                # the first record's reason: the night window (entries sorted: no validity sorts first)
                assert verdict.reason == reasons.OUTSIDE_SCHEDULE, (now, verdict.reason)
    assert opened
    assert _multi(1, None).reason == reasons.CLOCK_NOT_SET


def test_lockdown_reason_only_when_every_record_was_refused_for_it():
    monday_10 = MON + 10 * H
    assert _multi(2, monday_10, "lockdown").granted  # the admin record, in its window
    assert _multi(2, monday_10 + 10 * H, "lockdown").reason == reasons.OUTSIDE_SCHEDULE
    assert _multi(3, monday_10, "lockdown").reason == reasons.LOCKDOWN
    assert _multi(4, monday_10, "lockdown").reason == reasons.EXPIRED  # the admin record has expired
    assert _multi(2, monday_10 + 10 * H, "normal").granted  # the normal record, any time


def test_zz_cleanup():
    if "multi" in _STATE:
        _STATE.pop("multi").close()
        fwenv.remove_tree(_STATE.pop("multi_dir"))
    if "store" in _STATE:
        _STATE.pop("store").close()
        fwenv.remove_tree(_STATE.pop("dir"))
