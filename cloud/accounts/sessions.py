"""Server-side console sessions: a random token in the cookie, its SHA-256 in the table, idle and absolute
expiry, and a CSRF token derived from the session token (so it is never stored)."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from cloud.accounts.models import ConsoleSession, OperatorAccount

TOKEN_BYTES = 32
# last_seen_at is written at most this often, so that reading pages does not write on every request.
_TOUCH_EVERY_S = 60


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """The synchronizer token of a session: bound to it, unguessable without the cookie, not stored."""
    return hmac.new(session_token.encode(), b"console-csrf-v1", hashlib.sha256).hexdigest()


def tokens_match(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


@dataclass(frozen=True)
class SessionLifetime:
    idle_s: int
    max_s: int


def start_session(
    *, session: Session, account: OperatorAccount, lifetime: SessionLifetime, now: int
) -> tuple[ConsoleSession, str]:
    """A new session for the account and the token for its cookie (shown to the browser only)."""
    session.exec(delete(ConsoleSession).where(col(ConsoleSession.expires_at) <= now))
    assert account.id is not None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    record = ConsoleSession(
        token_hash=hash_token(token),
        account_id=account.id,
        site_id=account.site_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime.max_s,
    )
    session.add(record)
    session.flush()
    return record, token


def find_session(
    *, session: Session, token: str, lifetime: SessionLifetime, now: int
) -> tuple[ConsoleSession, OperatorAccount] | None:
    """The live session of a cookie token with its (enabled) account, touched; None if there is none."""
    if not token or len(token) > 128:
        return None
    row = session.exec(
        select(ConsoleSession, OperatorAccount)
        .join(OperatorAccount, col(OperatorAccount.id) == col(ConsoleSession.account_id))
        .where(ConsoleSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    record, account = row
    if account.disabled or now >= record.expires_at or now - record.last_seen_at >= lifetime.idle_s:
        return None
    if now - record.last_seen_at >= _TOUCH_EVERY_S:
        record.last_seen_at = now
        session.add(record)
        session.flush()
    return record, account


def set_session_site(*, session: Session, record: ConsoleSession, site_id: int) -> None:
    record.site_id = site_id
    session.add(record)
    session.flush()


def end_session(*, session: Session, token: str) -> None:
    session.exec(delete(ConsoleSession).where(col(ConsoleSession.token_hash) == hash_token(token)))
    session.flush()


def end_sessions_of(*, session: Session, account_id: int) -> None:
    """Sign an account out everywhere (after a password change)."""
    session.exec(delete(ConsoleSession).where(col(ConsoleSession.account_id) == account_id))
    session.flush()
