"""Pure units: the merge rule for several grants of one credential, and the bad-key limiter."""

import time

from cloud.auth.limiter import AuthFailureLimiter
from cloud.permissions.merge import Grant, merge_grants
from shared_schema.messages import ROLE_ADMIN, ROLE_NORMAL
from shared_schema.schedule import MAX_WINDOWS


def _grant(
    cred: str,
    role: int = ROLE_NORMAL,
    valid: tuple[int, int] = (0, 0),
    windows: tuple[tuple[int, int, int], ...] = (),
) -> Grant:
    return Grant(cred, 1, 1, 1, "", None, role, valid[0], valid[1], windows)


def test_single_grants_pass_through_sorted_by_hash() -> None:
    entries, truncated = merge_grants([_grant("bb" * 16, windows=((1, 60, 120),)), _grant("aa" * 16)])
    assert entries == [["aa" * 16, ROLE_NORMAL, 0, 0, []], ["bb" * 16, ROLE_NORMAL, 0, 0, [[1, 60, 120]]]]
    assert truncated == 0


def test_unbounded_and_any_time_win() -> None:
    cred = "aa" * 16
    [entry], _ = merge_grants(
        [_grant(cred, valid=(100, 200), windows=((1, 60, 120),)), _grant(cred, ROLE_ADMIN, valid=(0, 150))]
    )
    assert entry == [cred, ROLE_ADMIN, 0, 200, []]
    [entry], _ = merge_grants(
        [
            _grant(cred, valid=(100, 0), windows=((1, 60, 120),)),
            _grant(cred, valid=(50, 300), windows=((4, 60, 120), (1, 1300, 200))),
        ]
    )
    assert entry == [cred, ROLE_NORMAL, 50, 0, [[5, 60, 120], [1, 1300, 200]]]


def test_too_many_windows_fail_closed_and_are_counted() -> None:
    cred = "aa" * 16
    grants = [_grant(cred, windows=((127, 10 * i, 10 * i + 5),)) for i in range(MAX_WINDOWS + 3)]
    [entry], truncated = merge_grants(grants)
    assert len(entry[4]) == MAX_WINDOWS and truncated == 1
    assert entry[4] == [[127, 10 * i, 10 * i + 5] for i in range(MAX_WINDOWS)]


def test_limiter_blocks_after_the_limit_and_forgets_after_the_window() -> None:
    limiter = AuthFailureLimiter(limit=3, window_s=0.3)
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1") == 0
        limiter.record_failure("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") >= 1
    assert limiter.retry_after("10.0.0.2") == 0  # per client address
    time.sleep(0.35)
    assert limiter.retry_after("10.0.0.1") == 0
