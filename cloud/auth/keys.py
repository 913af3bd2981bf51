"""API keys: generation, hashing and lookup. The key itself is never stored."""

import hashlib
import secrets

from sqlmodel import Session, select

from cloud.models.api_key import ApiKey, ApiKeyCreate

KEY_PREFIX = "oak_"  # makes a leaked key easy to recognise by secret scanners


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)  # 256 bits


def hash_key(key: str) -> str:
    # A single SHA-256 is enough: the key has 256 bits of entropy, so there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(*, session: Session, key_in: ApiKeyCreate) -> tuple[ApiKey, str]:
    """Store a new key (flushed, not committed) and return it with the plaintext, to be shown once."""
    key = generate_key()
    record = ApiKey.model_validate(key_in, update={"key_hash": hash_key(key), "prefix": key[:10]})
    session.add(record)
    session.flush()
    return record, key


def find_api_key(*, session: Session, key: str) -> ApiKey | None:
    record = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
    if record is None or record.revoked:
        return None
    return record
