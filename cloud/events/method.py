"""How a lock was asked to open, for each event: a card, a phone, a remote command, or nothing (door events).

The event record on the wire has no method field; the credential says it: its kind (felica, iso14443a: card;
phone, mobile: phone), or a mobile key's id even after the key was revoked. Refusals of a phone before its
ticket verified carry no credential, but a reason only a phone exchange gives.
"""

from sqlmodel import Session, col, select

from cloud.mobilekeys.service import phone_key_ids
from cloud.models.credential import Credential
from shared_schema.mobilekeys import PHONE_REFUSALS

CARD, PHONE, REMOTE = "card", "phone", "remote"
_BY_KIND = {"felica": CARD, "iso14443a": CARD, "phone": PHONE, "mobile": PHONE}
_REMOTE_TYPES = ("remote_unlock", "remote_lock")


def methods_of(*, session: Session, site_id: int, hashes: set[str]) -> dict[str, str]:
    """credential id -> method, for the ids of one batch that are known in the site."""
    if not hashes:
        return {}
    rows = session.exec(
        select(Credential.cred_hash, Credential.kind).where(
            Credential.site_id == site_id, col(Credential.cred_hash).in_(hashes)
        )
    ).all()
    found = {cred_hash: _BY_KIND.get(kind, "") for cred_hash, kind in rows}
    for key_id in phone_key_ids(session=session, site_id=site_id, hashes=hashes - found.keys()):
        found[key_id] = PHONE
    return found


def event_method(methods: dict[str, str], event_type: str, cred: str, reason: str) -> str:
    if cred:
        return methods.get(cred, "")
    if event_type in _REMOTE_TYPES:
        return REMOTE
    if reason in PHONE_REFUSALS:
        return PHONE
    return ""
