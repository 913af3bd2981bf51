"""Issuing, listing and revoking mobile keys (docs/PROTOCOL.md "Mobile keys", docs/API.md).

issue_mobile_key() makes a random key id and secret, cuts the key's validity and windows to the user's rules,
and MACs one ticket per lock under that lock's K_mobile (from its current device secret). The credential (kind
`mobile`, id = key id, assurance `challenge`) goes into the doors' tables through the normal recompute, so
schedules, the door's required assurance and revocation reach the locks with the permission sync. The key's
secret is returned once, in the key file, and kept nowhere.
"""

import os
from typing import Any

from sqlmodel import Session, col, func, select

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.crud import credentials as credential_service
from cloud.crud.scope import get_in_site, snapshot
from cloud.errors import Conflict, Invalid, NotFound
from cloud.lockkeys.models import DoorKey
from cloud.lockkeys.service import signing_key
from cloud.mobilekeys.models import MobileKey, MobileKeyCreate, MobileKeyDoor, MobileKeyPublic
from cloud.mobilekeys.reach import clip, user_rules_for_door
from cloud.models.common import now_ts
from cloud.models.credential import KIND_MOBILE, Credential
from cloud.models.door import Door
from cloud.models.rule import AccessRule
from cloud.models.user import User
from cloud.models.zone import Zone, ZoneDoor
from cloud.settings import Settings
from shared_schema import mobilekeyfile
from shared_schema.assurance import ASSURANCE_CHALLENGE
from shared_schema.mobilekeys import KEY_ID_BYTES, KEY_SECRET_BYTES, MAX_KEY_DOORS

_DAY_S = 86400


def _requested_doors(*, session: Session, site_id: int, key_in: MobileKeyCreate) -> list[Door]:
    """The door, or the zone's doors that are provisioned and not retired (ordered by id)."""
    if (key_in.door_id is None) == (key_in.zone_id is None):
        raise Invalid("door_id", "give exactly one of door_id and zone_id")
    if key_in.door_id is not None:
        door = get_in_site(
            session=session,
            model=Door,
            obj_id=key_in.door_id,
            site_id=site_id,
            field="door_id",
            entity="door",
        )
        return [door]
    assert key_in.zone_id is not None
    get_in_site(
        session=session, model=Zone, obj_id=key_in.zone_id, site_id=site_id, field="zone_id", entity="zone"
    )
    query = (
        select(Door)
        .join(ZoneDoor, col(ZoneDoor.door_id) == col(Door.id))
        .join(DoorKey, col(DoorKey.door_id) == col(Door.id))
        .where(ZoneDoor.zone_id == key_in.zone_id, col(Door.retired_at) == 0)
        .order_by(col(Door.id))
    )
    return list(session.exec(query).all())


def _requested_period(*, settings: Settings, key_in: MobileKeyCreate, now: int) -> tuple[int, int]:
    valid_from = key_in.valid_from or now
    valid_until = key_in.valid_until or valid_from + settings.mobile_key_default_days * _DAY_S
    if valid_until <= valid_from:
        raise Invalid("valid_until", "valid_until must be after valid_from")
    if valid_until > now + settings.mobile_key_max_days * _DAY_S:
        raise Invalid("valid_until", f"a mobile key is valid for at most {settings.mobile_key_max_days} days")
    return valid_from, valid_until


def _reached(
    *, session: Session, user: User, doors: list[Door], key_in: MobileKeyCreate
) -> tuple[list[Door], list[AccessRule]]:
    """The doors the user's rules reach, and those rules."""
    assert user.id is not None
    covered, rules = [], []
    for door in doors:
        assert door.id is not None
        found = user_rules_for_door(session=session, user_id=user.id, door_id=door.id)
        if found:
            covered.append(door)
            rules.extend(found)
    field = "door_id" if key_in.door_id is not None else "zone_id"
    if not covered:
        raise Invalid(field, "no enabled rule lets this user open that door (or any provisioned door of it)")
    if len(covered) > MAX_KEY_DOORS:
        raise Invalid(
            field, f"a mobile key covers at most {MAX_KEY_DOORS} doors: issue keys per door or zone"
        )
    return covered, rules


def _ticket(*, session: Session, door: Door, key_id: bytes, secret: bytes, common: str) -> dict[str, Any]:
    generation, device_secret = signing_key(session=session, door=door)  # 409 if retired or unprovisioned
    ticket = mobilekeyfile.lock_ticket(device_secret, generation, door.device_id, key_id, secret, common)
    ticket["door_id"] = door.id
    return ticket


def issue_mobile_key(
    *, session: Session, operator: Operator, settings: Settings, user: User, key_in: MobileKeyCreate
) -> tuple[MobileKey, dict[str, Any]]:
    """The stored key and its key file (with the secret: show it once, keep it nowhere)."""
    assert user.id is not None
    if user.status != "active":
        raise Conflict(f"user {user.id} is {user.status}: no key can be issued")
    now = now_ts()
    doors = _requested_doors(session=session, site_id=user.site_id, key_in=key_in)
    valid_from, valid_until = _requested_period(settings=settings, key_in=key_in, now=now)
    covered, rules = _reached(session=session, user=user, doors=doors, key_in=key_in)
    limits = clip(rules, valid_from, valid_until)
    key_id, secret = os.urandom(KEY_ID_BYTES), os.urandom(KEY_SECRET_BYTES)
    common = mobilekeyfile.common_text(key_id, user.id, limits.valid_from, limits.valid_until, limits.windows)
    tickets = [
        _ticket(session=session, door=door, key_id=key_id, secret=secret, common=common) for door in covered
    ]
    credential = credential_service.add_issued_credential(
        session=session,
        operator=operator,
        user=user,
        kind=KIND_MOBILE,
        cred_hash=key_id.hex(),
        assurance=ASSURANCE_CHALLENGE,
        label=key_in.label,
    )
    mobile = MobileKey(
        site_id=user.site_id,
        user_id=user.id,
        credential_id=credential.id,
        key_id=key_id.hex(),
        label=key_in.label,
        door_id=key_in.door_id,
        zone_id=key_in.zone_id,
        valid_from=limits.valid_from,
        valid_until=limits.valid_until,
        windows=limits.windows,
        doors=[
            {"door_id": t["door_id"], "device_id": t["device_id"], "key_generation": t["g"]} for t in tickets
        ],
    )
    session.add(mobile)
    session.flush()
    public = mobile_key_public(session=session, mobile=mobile)
    record_object_change(
        session=session,
        operator=operator,
        action="create",
        entity="mobile_key",
        obj=mobile,
        after=public.model_dump(mode="json"),
    )
    keyfile = mobilekeyfile.key_file(
        key_id,
        secret,
        user.id,
        key_in.label,
        limits.valid_from,
        limits.valid_until,
        limits.windows,
        common,
        tickets,
    )
    return mobile, keyfile


def _current_generations(*, session: Session, door_ids: set[int]) -> dict[int, int]:
    if not door_ids:
        return {}
    rows = session.exec(select(DoorKey.door_id, DoorKey.gen).where(col(DoorKey.door_id).in_(door_ids))).all()
    return dict(rows)


def mobile_keys_public(*, session: Session, keys: list[MobileKey]) -> list[MobileKeyPublic]:
    """The keys as the API shows them; reissue_needed when a door's lock no longer holds a ticket's secret."""
    door_ids = {door["door_id"] for key in keys for door in key.doors}
    current = _current_generations(session=session, door_ids=door_ids)
    return [
        MobileKeyPublic.model_validate(
            key,
            update={
                "revoked": bool(key.revoked_at),
                "doors": [MobileKeyDoor.model_validate(door) for door in key.doors],
                "reissue_needed": any(
                    current.get(door["door_id"]) != door["key_generation"] for door in key.doors
                ),
            },
        )
        for key in keys
    ]


def mobile_key_public(*, session: Session, mobile: MobileKey) -> MobileKeyPublic:
    return mobile_keys_public(session=session, keys=[mobile])[0]


def list_mobile_keys(*, session: Session, user: User, offset: int, limit: int) -> tuple[list[MobileKey], int]:
    query = select(MobileKey).where(MobileKey.user_id == user.id)
    rows = list(session.exec(query.order_by(col(MobileKey.id)).offset(offset).limit(limit)).all())
    count = session.exec(select(func.count()).where(MobileKey.user_id == user.id)).one()
    return rows, count


def get_mobile_key(*, session: Session, user: User, key_id: int) -> MobileKey:
    mobile = session.get(MobileKey, key_id)
    if mobile is None or mobile.user_id != user.id:
        raise NotFound("mobile key", key_id)
    return mobile


def revoke_mobile_key(*, session: Session, operator: Operator, mobile: MobileKey) -> None:
    """Delete the key's credential (the doors' tables lose it at the next sync); the key's record stays."""
    if mobile.revoked_at:
        return
    before = mobile_key_public(session=session, mobile=mobile).model_dump(mode="json")
    credential = session.get(Credential, mobile.credential_id) if mobile.credential_id else None
    mobile.revoked_at, mobile.credential_id = now_ts(), None
    session.add(mobile)
    session.flush()
    if credential is not None:
        credential_service.delete_credential(session=session, operator=operator, credential=credential)
    record_object_change(
        session=session,
        operator=operator,
        action="revoke",
        entity="mobile_key",
        obj=mobile,
        before=before,
        after=snapshot(MobileKeyPublic, mobile_key_public(session=session, mobile=mobile)),
    )


def phone_key_ids(*, session: Session, site_id: int, hashes: set[str]) -> set[str]:
    """Which of these credential ids are (or were) mobile keys of the site (revoked ones included)."""
    if not hashes:
        return set()
    rows = session.exec(
        select(MobileKey.key_id).where(MobileKey.site_id == site_id, col(MobileKey.key_id).in_(hashes))
    ).all()
    return set(rows)
