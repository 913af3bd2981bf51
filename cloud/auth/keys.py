"""API keys: generation, hashing and lookup. The key itself is never stored."""

import hashlib
import secrets

from sqlmodel import Session, select

from cloud.auth.operator import ROLE_INTEGRATION
from cloud.errors import Invalid
from cloud.models.api_key import ApiKey, ApiKeyCreate

KEY_PREFIX = "oak_"  # makes a leaked key easy to recognise by secret scanners


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)  # 256 bits


def hash_key(key: str) -> str:
    # A single SHA-256 is enough: the key has 256 bits of entropy, so there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def check_key_fields(key_in: ApiKeyCreate) -> None:
    """An integration key is bound to a site and has at least one scope; other keys have neither scopes
    nor a rate limit of their own (Invalid, on the field)."""
    if key_in.role != ROLE_INTEGRATION:
        if key_in.scopes:
            raise Invalid("scopes", "only integration keys have scopes")
        if key_in.rate_limit_per_min is not None:
            raise Invalid("rate_limit_per_min", "only integration keys have a rate limit of their own")
        return
    if key_in.site_id is None:
        raise Invalid("site_id", "an integration key belongs to one site: give site_id")
    if not key_in.scopes or len(set(key_in.scopes)) != len(key_in.scopes):
        raise Invalid("scopes", "an integration key needs its scopes, each once: members, verifications")


def create_api_key(*, session: Session, key_in: ApiKeyCreate) -> tuple[ApiKey, str]:
    """Store a new key (flushed, not committed) and return it with the plaintext, to be shown once."""
    check_key_fields(key_in)
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
