"""Operator accounts: create, change password, disable; signing in (password check behind the lockout)."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from cloud.accounts import lockout
from cloud.accounts.models import (
    USERNAME_MAX,
    OperatorAccount,
    OperatorAccountCreate,
    normalize_username,
)
from cloud.accounts.passwords import Passwords
from cloud.errors import Conflict, Invalid
from cloud.models.site import Site


def find_account(*, session: Session, username: str) -> OperatorAccount | None:
    name = normalize_username(username)
    return session.exec(select(OperatorAccount).where(OperatorAccount.username == name)).first()


def create_account(
    *, session: Session, passwords: Passwords, account_in: OperatorAccountCreate, password: str
) -> OperatorAccount:
    """Store a new account (flushed, not committed). The password is hashed here and never kept."""
    if account_in.site_id is not None and session.get(Site, account_in.site_id) is None:
        raise Invalid("site_id", f"no site {account_in.site_id}")
    if find_account(session=session, username=account_in.username) is not None:
        raise Conflict(f"username {account_in.username!r} is already taken")
    account = OperatorAccount.model_validate(account_in, update={"password_hash": passwords.hash(password)})
    session.add(account)
    session.flush()
    return account


def set_password(*, session: Session, passwords: Passwords, account: OperatorAccount, password: str) -> None:
    account.password_hash = passwords.hash(password)
    session.add(account)
    session.flush()


def set_disabled(*, session: Session, account: OperatorAccount, disabled: bool) -> None:
    """A disabled account cannot sign in, and its open sessions stop working at their next request."""
    account.disabled = disabled
    session.add(account)
    session.flush()


def list_accounts(*, session: Session) -> list[OperatorAccount]:
    return list(session.exec(select(OperatorAccount).order_by(col(OperatorAccount.id))).all())


@dataclass(frozen=True)
class SignInAttempt:
    username: str
    password: str
    client: str  # the client's address, as cloud.console.client_address determined it
    now: int


def sign_in(
    *, session: Session, passwords: Passwords, policy: lockout.LockoutPolicy, attempt: SignInAttempt
) -> OperatorAccount | None:
    """The account if the password is right and the pair is not waiting out a delay; None otherwise.

    Callers answer every None the same way (no hint whether the name exists, the password was wrong, the
    account is disabled or the pair is delayed). Flushes the bookkeeping; the caller commits it.
    """
    username = normalize_username(attempt.username)
    if not username or len(username) > USERNAME_MAX:
        passwords.burn_time(attempt.password)
        return None
    if lockout.wait_seconds(session=session, username=username, client=attempt.client, now=attempt.now):
        return None  # not even checked: guesses made while delayed teach nothing
    account = find_account(session=session, username=username)
    if account is None:
        passwords.burn_time(attempt.password)
        correct = False
    else:
        correct = passwords.verify(account.password_hash, attempt.password)
    if not correct or account is None or account.disabled:
        lockout.record_failure(
            session=session, policy=policy, username=username, client=attempt.client, now=attempt.now
        )
        if account is not None and not correct:
            account.failed_attempts += 1
            account.last_failed_at = attempt.now
            session.add(account)
            session.flush()
        return None
    lockout.clear_failures(session=session, username=username, client=attempt.client)
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hasher.hash(attempt.password)
    account.failed_attempts = 0
    account.last_sign_in_at = attempt.now
    session.add(account)
    session.flush()
    return account
