"""Sign-in lockout keyed by (username, client address), with a delay that doubles with each failure.

Keying by the pair is what keeps the lockout from being a weapon: failures made from an attacker's address
slow down only that address's attempts at that username; the real operator, signing in from elsewhere, is
never delayed by them. Unknown usernames are counted the same way, so the answer never tells whether an
account exists.
"""

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from cloud.accounts.models import USERNAME_MAX, SignInThrottle
from cloud.settings import Settings


@dataclass(frozen=True)
class LockoutPolicy:
    free_failures: int  # failures allowed before any delay
    base_delay_s: int  # the first delay; each further failure doubles it
    max_delay_s: int
    reset_after_s: int  # a pair with no failure for this long starts again from zero

    @classmethod
    def from_settings(cls, settings: Settings) -> "LockoutPolicy":
        return cls(
            free_failures=settings.sign_in_free_failures,
            base_delay_s=settings.sign_in_base_delay_s,
            max_delay_s=settings.sign_in_max_delay_s,
            reset_after_s=settings.sign_in_reset_after_s,
        )

    def delay_after(self, failures: int) -> int:
        """Seconds to wait after the given number of consecutive failures."""
        extra = failures - self.free_failures - 1
        if extra < 0:
            return 0
        return min(self.max_delay_s, self.base_delay_s << min(extra, 40))


def _key(username: str, client: str) -> tuple[str, str]:
    return username[:USERNAME_MAX], client[:64]


def wait_seconds(*, session: Session, username: str, client: str, now: int) -> int:
    """How long this (username, client) must wait before its next attempt is even checked; 0 = go ahead."""
    row = session.get(SignInThrottle, _key(username, client))
    if row is None:
        return 0
    return max(0, row.blocked_until - now)


def record_failure(
    *, session: Session, policy: LockoutPolicy, username: str, client: str, now: int
) -> SignInThrottle:
    """Count one failure for the pair and set when it may try again (flushes)."""
    session.exec(
        delete(SignInThrottle).where(col(SignInThrottle.last_failure_at) < now - policy.reset_after_s)
    )
    key = _key(username, client)
    row = session.get(SignInThrottle, key)
    if row is None:
        row = SignInThrottle(username=key[0], client=key[1])
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # a concurrent failure of the same pair created it first
            row = session.get(SignInThrottle, key, populate_existing=True)
            assert row is not None
    row.failures += 1
    row.last_failure_at = now
    row.blocked_until = now + policy.delay_after(row.failures)
    session.add(row)
    session.flush()
    return row


def clear_failures(*, session: Session, username: str, client: str) -> None:
    """A successful sign-in forgets the pair's failures."""
    row = session.get(SignInThrottle, _key(username, client))
    if row is not None:
        session.delete(row)
        session.flush()
