"""Console accounts at the service level, on SQLite and PostgreSQL: argon2id hashes, the lockout keyed by
(username, client address), server-side sessions with idle and absolute expiry."""

import pytest
from sqlmodel import Session, select

from cloud.accounts import lockout
from cloud.accounts.models import ConsoleSession, OperatorAccount, OperatorAccountCreate, SignInThrottle
from cloud.accounts.passwords import PasswordPolicyError, Passwords
from cloud.accounts.service import SignInAttempt, create_account, set_disabled, sign_in
from cloud.accounts.sessions import (
    SessionLifetime,
    csrf_token,
    end_session,
    find_session,
    hash_token,
    start_session,
)
from cloud.errors import Conflict
from cloud.settings import Settings

PASSWORD = "correct horse battery staple"
SETTINGS = Settings()
POLICY = lockout.LockoutPolicy(free_failures=3, base_delay_s=2, max_delay_s=900, reset_after_s=86400)
LIFETIME = SessionLifetime(idle_s=3600, max_s=12 * 3600)
NOW = 1_800_000_000


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(SETTINGS)


@pytest.fixture
def alice(session: Session, passwords: Passwords) -> OperatorAccount:
    account = create_account(
        session=session,
        passwords=passwords,
        account_in=OperatorAccountCreate(username="Alice", role="operator"),
        password=PASSWORD,
    )
    session.commit()
    return account


def attempt(
    password: str, client: str = "203.0.113.7", now: int = NOW, username: str = "alice"
) -> SignInAttempt:
    return SignInAttempt(username=username, password=password, client=client, now=now)


def try_sign_in(session: Session, passwords: Passwords, what: SignInAttempt) -> OperatorAccount | None:
    account = sign_in(session=session, passwords=passwords, policy=POLICY, attempt=what)
    session.commit()
    return account


def test_the_password_is_stored_as_an_argon2id_hash_only(alice: OperatorAccount, session: Session) -> None:
    stored = session.exec(select(OperatorAccount)).one()
    assert stored.username == "alice"  # case-insensitive names are stored in lower case
    assert stored.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in stored.password_hash


def test_policy_and_duplicates(session: Session, passwords: Passwords, alice: OperatorAccount) -> None:
    with pytest.raises(PasswordPolicyError):
        passwords.hash("short")
    with pytest.raises(PasswordPolicyError):
        passwords.hash("x" * 2000)
    with pytest.raises(Conflict):
        create_account(
            session=session,
            passwords=passwords,
            account_in=OperatorAccountCreate(username="ALICE", role="viewer"),
            password=PASSWORD,
        )


def test_right_password_signs_in_whatever_the_case_of_the_name(
    session: Session, passwords: Passwords, alice: OperatorAccount
) -> None:
    assert try_sign_in(session, passwords, attempt(PASSWORD, username=" ALICE ")) == alice
    assert session.get(OperatorAccount, alice.id).last_sign_in_at == NOW  # type: ignore[union-attr]


def test_failures_delay_that_address_only_doubling_each_time(
    session: Session, passwords: Passwords, alice: OperatorAccount
) -> None:
    attacker, office = "198.51.100.9", "203.0.113.7"
    for _ in range(POLICY.free_failures):
        assert try_sign_in(session, passwords, attempt("guess", attacker)) is None
    assert lockout.wait_seconds(session=session, username="alice", client=attacker, now=NOW) == 0
    delays = []
    for failures in range(POLICY.free_failures + 1, POLICY.free_failures + 5):
        now = NOW + 10_000 * failures  # each attempt after the previous delay has passed
        assert try_sign_in(session, passwords, attempt("guess", attacker, now)) is None
        delays.append(lockout.wait_seconds(session=session, username="alice", client=attacker, now=now))
    assert delays == [2, 4, 8, 16]
    blocked_at = NOW + 10_000 * (POLICY.free_failures + 4)
    # While delayed, even the right password from the attacker's address is refused without being checked.
    assert try_sign_in(session, passwords, attempt(PASSWORD, attacker, blocked_at)) is None
    # The real operator at the office is not delayed at all, at the same instant.
    assert try_sign_in(session, passwords, attempt(PASSWORD, office, blocked_at)) == alice
    # The account counts wrong passwords (bookkeeping), and a success resets the count.
    assert session.get(OperatorAccount, alice.id).failed_attempts == 0  # type: ignore[union-attr]
    # After the delay, the attacker's pair may try again, and a success clears it.
    later = blocked_at + 16
    assert try_sign_in(session, passwords, attempt(PASSWORD, attacker, later)) == alice
    assert session.get(SignInThrottle, ("alice", attacker)) is None


def test_unknown_and_disabled_accounts_fail_like_a_wrong_password(
    session: Session, passwords: Passwords, alice: OperatorAccount
) -> None:
    for _ in range(POLICY.free_failures + 1):
        assert try_sign_in(session, passwords, attempt(PASSWORD, username="nobody")) is None
    assert lockout.wait_seconds(session=session, username="nobody", client="203.0.113.7", now=NOW) == 2
    set_disabled(session=session, account=alice, disabled=True)
    session.commit()
    assert try_sign_in(session, passwords, attempt(PASSWORD, client="192.0.2.1")) is None
    assert try_sign_in(session, passwords, attempt(PASSWORD, username="x" * 65)) is None


def test_delay_is_capped_and_old_failures_are_forgotten(session: Session, passwords: Passwords) -> None:
    assert POLICY.delay_after(200) == POLICY.max_delay_s
    for failures in range(8):
        lockout.record_failure(session=session, policy=POLICY, username="eve", client="a", now=NOW + failures)
    session.commit()
    assert session.get(SignInThrottle, ("eve", "a")).failures == 8  # type: ignore[union-attr]
    # A day later, any failure prunes the stale rows; the pair starts from zero.
    later = NOW + POLICY.reset_after_s + 100
    lockout.record_failure(session=session, policy=POLICY, username="mallory", client="b", now=later)
    session.commit()
    assert session.get(SignInThrottle, ("eve", "a")) is None


def test_sessions_store_only_a_hash_and_expire(session: Session, alice: OperatorAccount) -> None:
    record, token = start_session(session=session, account=alice, lifetime=LIFETIME, now=NOW)
    session.commit()
    stored = session.exec(select(ConsoleSession)).one()
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash
    assert len(token) >= 43  # 256 bits
    assert find_session(session=session, token=token, lifetime=LIFETIME, now=NOW + 10) is not None
    assert find_session(session=session, token=token + "x", lifetime=LIFETIME, now=NOW) is None
    # Idle: an hour without a request ends it; activity keeps it alive up to the absolute limit.
    assert find_session(session=session, token=token, lifetime=LIFETIME, now=NOW + 3600) is None
    now = NOW
    while now + 3000 < NOW + LIFETIME.max_s:
        now += 3000
        assert find_session(session=session, token=token, lifetime=LIFETIME, now=now) is not None
    assert find_session(session=session, token=token, lifetime=LIFETIME, now=NOW + LIFETIME.max_s) is None
    assert csrf_token(token) != csrf_token(token + "x") and token not in csrf_token(token)


def test_disabling_an_account_or_signing_out_ends_its_sessions(
    session: Session, alice: OperatorAccount
) -> None:
    _, first = start_session(session=session, account=alice, lifetime=LIFETIME, now=NOW)
    _, second = start_session(session=session, account=alice, lifetime=LIFETIME, now=NOW)
    session.commit()
    end_session(session=session, token=first)
    session.commit()
    assert find_session(session=session, token=first, lifetime=LIFETIME, now=NOW) is None
    assert find_session(session=session, token=second, lifetime=LIFETIME, now=NOW) is not None
    set_disabled(session=session, account=alice, disabled=True)
    session.commit()
    assert find_session(session=session, token=second, lifetime=LIFETIME, now=NOW) is None
