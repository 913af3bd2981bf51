"""Provisioning, rotation and retirement of a lock's keys, and what the MQTT sync worker needs from them.

Rotation (docs/PROTOCOL.md "Key rotation"): rotate_door_secret() stores a sealed next secret (generation
gen + 1) in state `pending`. The sync worker reads it with pending_rekey(), sends `rekey` under the current
key and calls mark_rekey_delivered(); from then on door_keys() offers both generations to verify uplinks,
while signing_key() keeps the old one for downlinks. The first uplink that verifies under the new key makes
the worker call confirm_key(gen): the new secret becomes current, the old one is erased, state `confirmed`.
A site's key cannot be re-derived (the cloud keeps no identifier), so rotating a site rotates every lock's
device secret, and with it each lock's K_up, K_down and K_table.

Sync-worker API (keyword-only, flushes, never commits):
    door_keys(session=, door=)          -> [(gen, secret)]   keys valid for verifying an uplink; [] if retired
    signing_key(session=, door=)        -> (gen, secret)     key for downlinks; DoorRetired if retired
    pending_rekey(session=, door=)      -> PendingRekey | None
    mark_rekey_delivered(session=, door=, gen=)
    confirm_key(session=, door=, gen=)  -> bool (True when it completed a rotation)
"""

import os
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from cloud.audit.service import record_change, record_object_change
from cloud.auth.operator import Operator
from cloud.crud.sites import site_key
from cloud.errors import Conflict
from cloud.lockkeys.broker import mosquitto_hash, new_broker_password
from cloud.lockkeys.models import IN_FLIGHT, DoorKey, RotationPublic, RotationSkipped, SiteRotationPublic
from cloud.models.common import now_ts
from cloud.models.door import Door, ProvisioningBundle
from cloud.models.site import Site
from cloud.vault.master import active_sealer

DEVICE_SECRET_BYTES = 32
_TABLE = "door_key"


class DoorRetired(Conflict):
    """409: the door was retired; its keys are erased and nothing of its lock is accepted."""

    def __init__(self, door: Door) -> None:
        super().__init__(f"door {door.id} is retired: its keys are erased (create a new door for a new lock)")


@dataclass(frozen=True)
class PendingRekey:
    """A rotation the sync worker has to deliver (pending) or has delivered (delivered)."""

    gen: int
    secret: bytes = field(repr=False)
    state: str


def _seal(door_id: int, gen: int, column: str, secret: bytes) -> str:
    # Bound to the door and the generation: a sealed secret moved to another door or slot does not open.
    return active_sealer().seal(secret, table=_TABLE, column=column, row=f"{door_id}/{gen}")


def _open(door_id: int, gen: int, column: str, sealed: str) -> bytes:
    return active_sealer().open(sealed, table=_TABLE, column=column, row=f"{door_id}/{gen}")


def _locked_key(session: Session, door: Door) -> DoorKey | None:
    """The door's key row, locked for this transaction (PostgreSQL): rotations and confirmations serialize."""
    return session.exec(select(DoorKey).where(DoorKey.door_id == door.id).with_for_update()).first()


def key_status(*, session: Session, door_id: int) -> tuple[int, str]:
    """(current generation, rotation state) for display; (0, "none") for a door without keys (retired)."""
    key = session.get(DoorKey, door_id)
    return (0, "none") if key is None else (key.gen, key.rekey_state)


def issue_keys(*, session: Session, door: Door) -> ProvisioningBundle:
    """New keys for the door's lock: a device secret of a new generation, a broker password, the epoch
    raised by one; a rotation in flight is dropped. Returns the bundle, to be shown once. Not audited."""
    if door.retired_at:
        raise DoorRetired(door)
    assert door.id is not None
    site = session.get(Site, door.site_id)
    assert site is not None
    key = _locked_key(session, door)
    # A new generation never reuses a number the lock may have seen (a delivered next secret included).
    gen = 1 if key is None else key.gen + (2 if key.next_secret_sealed else 1)
    secret, password = os.urandom(DEVICE_SECRET_BYTES), new_broker_password()
    if key is None:
        key = DoorKey(door_id=door.id, gen=gen, secret_sealed="")
    key.gen, key.secret_sealed = gen, _seal(door.id, gen, "secret", secret)
    key.next_secret_sealed, key.rekey_state, key.rekey_requested_at = None, "none", 0
    key.broker_password_hash, key.updated_at = mosquitto_hash(password), now_ts()
    door.epoch += 1
    session.add_all([key, door])
    session.flush()
    return ProvisioningBundle(
        door_id=door.id,
        device_id=door.device_id,
        device_secret=secret.hex(),
        key_generation=gen,
        epoch=door.epoch,
        site_key=site_key(site).hex(),
        broker_username=door.device_id,
        broker_password=password,
    )


def provision_door(*, session: Session, operator: Operator, door: Door) -> ProvisioningBundle:
    """Provision the door's lock again (issue_keys), audited without its secrets."""
    bundle = issue_keys(session=session, door=door)
    record_object_change(
        session=session,
        operator=operator,
        action="provision",
        entity="door",
        obj=door,
        after={"epoch": bundle.epoch, "key_generation": bundle.key_generation},
    )
    return bundle


def _start_rotation(session: Session, door: Door) -> RotationPublic:
    """Conflict if the door cannot rotate now (retired, never provisioned, a rotation in flight)."""
    if door.retired_at:
        raise DoorRetired(door)
    assert door.id is not None
    key = _locked_key(session, door)
    if key is None:
        raise Conflict(f"door {door.id} has no key: provision it first (POST /doors/{door.id}/provision)")
    if key.rekey_state in IN_FLIGHT:
        raise Conflict(
            f"door {door.id} has a rotation to generation {key.gen + 1} in flight ({key.rekey_state}): "
            "wait for the lock to confirm it, or provision the lock again"
        )
    key.next_secret_sealed = _seal(door.id, key.gen + 1, "next_secret", os.urandom(DEVICE_SECRET_BYTES))
    key.rekey_state, key.rekey_requested_at, key.updated_at = "pending", now_ts(), now_ts()
    session.add(key)
    session.flush()
    return RotationPublic(
        door_id=door.id, key_generation=key.gen, next_generation=key.gen + 1, rekey_state=key.rekey_state
    )


def rotate_door_secret(*, session: Session, operator: Operator, door: Door) -> RotationPublic:
    rotation = _start_rotation(session, door)
    record_object_change(
        session=session,
        operator=operator,
        action="rotate_secret",
        entity="door",
        obj=door,
        after=rotation.model_dump(),
    )
    return rotation


def rotate_site_keys(*, session: Session, operator: Operator, site: Site) -> SiteRotationPublic:
    """Rotate the device secret of every lock of the site that can rotate now; report the others."""
    assert site.id is not None
    doors = session.exec(select(Door).where(Door.site_id == site.id).order_by(col(Door.id))).all()
    rotated, skipped = [], []
    for door in doors:
        assert door.id is not None
        try:
            rotated.append(_start_rotation(session, door))
        except Conflict as refusal:
            skipped.append(RotationSkipped(door_id=door.id, reason=str(refusal)))
    answer = SiteRotationPublic(site_id=site.id, rotated=rotated, skipped=skipped)
    record_change(
        session=session,
        operator=operator,
        action="rotate_key",
        entity="site",
        entity_id=site.id,
        site_id=site.id,
        after=answer.model_dump(),
    )
    return answer


def retire_door(*, session: Session, operator: Operator, door: Door) -> Door:
    """Erase the lock's secrets and broker account; the door stays (with its history) but accepts no sync."""
    if door.retired_at:
        return door
    key = _locked_key(session, door)
    if key is not None:
        session.delete(key)
    door.retired_at, door.online = now_ts(), False
    session.add(door)
    session.flush()
    record_object_change(
        session=session, operator=operator, action="retire", entity="door", obj=door, after={"retired": True}
    )
    return door


# --- the sync worker's side --------------------------------------------------------------------------


def door_keys(*, session: Session, door: Door) -> list[tuple[int, bytes]]:
    """Every (generation, secret) an uplink from this door may be signed with: the current one and, while a
    rotation is in flight, the next (the lock answers `rekey` under the new key). [] for a retired door."""
    key = None if door.retired_at else session.get(DoorKey, door.id)
    if key is None:
        return []
    assert door.id is not None
    keys = [(key.gen, _open(door.id, key.gen, "secret", key.secret_sealed))]
    if key.next_secret_sealed is not None:
        keys.append((key.gen + 1, _open(door.id, key.gen + 1, "next_secret", key.next_secret_sealed)))
    return keys


def signing_key(*, session: Session, door: Door) -> tuple[int, bytes]:
    """(generation, secret) to sign downlinks (and key the table) with: the old one until confirmed."""
    key = None if door.retired_at else session.get(DoorKey, door.id)
    if key is None:
        raise DoorRetired(door) if door.retired_at else Conflict(f"door {door.id} has no key: provision it")
    assert door.id is not None
    return key.gen, _open(door.id, key.gen, "secret", key.secret_sealed)


def pending_rekey(*, session: Session, door: Door) -> PendingRekey | None:
    """The rotation in flight, if any: send `rekey` {gen, wrapped secret} while its state is pending."""
    key = None if door.retired_at else session.get(DoorKey, door.id)
    if key is None or key.next_secret_sealed is None:
        return None
    assert door.id is not None
    secret = _open(door.id, key.gen + 1, "next_secret", key.next_secret_sealed)
    return PendingRekey(gen=key.gen + 1, secret=secret, state=key.rekey_state)


def mark_rekey_delivered(*, session: Session, door: Door, gen: int) -> None:
    """The `rekey` for `gen` was published (PUBACK): pending -> delivered. Anything else is left alone."""
    key = None if door.retired_at else _locked_key(session, door)
    if key is not None and key.rekey_state == "pending" and gen == key.gen + 1:
        key.rekey_state, key.updated_at = "delivered", now_ts()
        session.add(key)
        session.flush()


def confirm_key(*, session: Session, door: Door, gen: int) -> bool:
    """An uplink verified under generation `gen`. If that is the next generation, it becomes current and
    the old secret is erased (True). The current generation, or any other, changes nothing (False)."""
    key = None if door.retired_at else _locked_key(session, door)
    if key is None or key.next_secret_sealed is None or gen != key.gen + 1:
        return False
    assert door.id is not None
    secret = _open(door.id, gen, "next_secret", key.next_secret_sealed)
    key.gen, key.secret_sealed = gen, _seal(door.id, gen, "secret", secret)
    key.next_secret_sealed, key.rekey_state, key.updated_at = None, "confirmed", now_ts()
    session.add(key)
    session.flush()
    return True
