"""Operator passwords: argon2id hashes (argon2-cffi), a length policy, and a decoy for unknown usernames."""

from functools import cached_property

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from cloud.settings import Settings

# Longer input is refused before hashing: an attacker's megabyte password must not cost a megabyte of work.
PASSWORD_MAX_CHARS = 1024


class PasswordPolicyError(ValueError):
    pass


class Passwords:
    """Hashing and checking with the configured argon2id cost."""

    def __init__(self, settings: Settings) -> None:
        self.min_length = settings.password_min_length
        self.hasher = PasswordHasher(
            time_cost=settings.password_hash_time_cost,
            memory_cost=settings.password_hash_memory_kib,
            parallelism=settings.password_hash_parallelism,
            type=Type.ID,
        )

    def check_policy(self, password: str) -> None:
        if len(password) < self.min_length:
            raise PasswordPolicyError(f"a password needs at least {self.min_length} characters")
        if len(password) > PASSWORD_MAX_CHARS:
            raise PasswordPolicyError(f"a password has at most {PASSWORD_MAX_CHARS} characters")

    def hash(self, password: str) -> str:
        self.check_policy(password)
        return self.hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        if len(password) > PASSWORD_MAX_CHARS:
            return False
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.hasher.check_needs_rehash(stored_hash)

    @cached_property
    def _decoy_hash(self) -> str:
        return self.hasher.hash("decoy password that no account has")

    def burn_time(self, password: str) -> None:
        """Verify against a decoy, so an unknown username costs the same time as a wrong password."""
        self.verify(self._decoy_hash, password)
