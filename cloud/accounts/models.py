"""Operator accounts, their console sessions, and the sign-in failure counters the lockout reads."""

import re
from typing import Annotated, Literal

import sqlalchemy as sa
from pydantic import AfterValidator
from sqlmodel import Field, Index, SQLModel

from cloud.models.common import DbId, now_ts

AccountRole = Literal["admin", "operator", "viewer"]
# What each role is called in the console: a site admin, a manager (changes people, rules, doors), a viewer.
ROLE_TITLES = {"admin": "site admin", "operator": "manager", "viewer": "viewer"}

USERNAME_MAX = 64
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")


def normalize_username(text: str) -> str:
    """Usernames compare case-insensitively: stored and looked up in lower case."""
    return text.strip().lower()


def _check_username(text: str) -> str:
    text = normalize_username(text)
    if not _USERNAME.fullmatch(text):
        raise ValueError(
            f"1 to {USERNAME_MAX} characters: letters, digits and . _ @ -, starting with a letter or digit"
        )
    return text


Username = Annotated[str, AfterValidator(_check_username)]


# What an administrator sets on an account; site_id None = every site.
class OperatorAccountBase(SQLModel):
    username: Username = Field(sa_type=sa.String(USERNAME_MAX), unique=True)
    role: AccountRole = Field(sa_type=sa.String(16))
    site_id: DbId | None = Field(default=None, foreign_key="site.id", index=True)


# Input of `python -m cloud operators create` (the password travels separately, never in a model dump).
class OperatorAccountCreate(OperatorAccountBase):
    pass


# The stored account: an argon2id hash of the password, never the password.
class OperatorAccount(OperatorAccountBase, table=True):
    __tablename__ = "operator_account"
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(sa_type=sa.String(255))
    disabled: bool = False
    # Bookkeeping shown to administrators; the lockout itself is keyed by (username, address): SignInThrottle.
    failed_attempts: int = 0
    last_failed_at: int = Field(default=0, sa_type=sa.BigInteger)
    last_sign_in_at: int = Field(default=0, sa_type=sa.BigInteger)
    created_at: int = Field(default_factory=now_ts, sa_type=sa.BigInteger)


# One signed-in browser. The cookie holds a random token; only its SHA-256 is stored.
class ConsoleSession(SQLModel, table=True):
    __tablename__ = "console_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True)
    account_id: int = Field(foreign_key="operator_account.id", index=True)
    # The site the console shows (a global account switches between sites).
    site_id: int | None = None
    created_at: int = Field(sa_type=sa.BigInteger)
    last_seen_at: int = Field(sa_type=sa.BigInteger)
    expires_at: int = Field(sa_type=sa.BigInteger, index=True)


# Failed sign-ins for one (username, client address): the delay grows with them. Keyed by the pair so that
# failures from an attacker's address never delay the real operator elsewhere. Unknown usernames count too.
class SignInThrottle(SQLModel, table=True):
    __tablename__ = "sign_in_throttle"
    __table_args__ = (Index("ix_sign_in_throttle_last_failure_at", "last_failure_at"),)
    username: str = Field(sa_type=sa.String(USERNAME_MAX), primary_key=True)
    client: str = Field(sa_type=sa.String(64), primary_key=True)
    failures: int = 0
    last_failure_at: int = Field(default=0, sa_type=sa.BigInteger)
    blocked_until: int = Field(default=0, sa_type=sa.BigInteger)


# An account as lists show it.
class OperatorAccountPublic(OperatorAccountBase):
    id: int
    disabled: bool
    failed_attempts: int
    last_failed_at: int
    last_sign_in_at: int
    created_at: int
