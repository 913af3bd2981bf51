"""A lock's keys: the provisioning bundle, re-provisioning, rotation (the state machine the MQTT sync worker
drives, at the service level, and the API that starts it), site rotation and retirement."""

from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from cloud.lockkeys.broker import mosquitto_hash_matches, password_file_lines
from cloud.lockkeys.models import DoorKey
from cloud.lockkeys.service import (
    DoorRetired,
    confirm_key,
    door_keys,
    mark_rekey_delivered,
    pending_rekey,
    signing_key,
)
from cloud.models.door import Door
from tests.cloud.conftest import Api
from tests.cloud.helpers import make_door


def _door(session: Session, door_id: int) -> Door:
    door = session.get(Door, door_id)
    assert door is not None
    return door


def _key_row(session: Session, door_id: int) -> DoorKey:
    key = session.get(DoorKey, door_id)
    assert key is not None
    return key


def test_a_new_door_answers_its_provisioning_bundle_once(
    operator: Api, site: dict[str, Any], db: Engine
) -> None:
    door = make_door(operator)
    bundle = door["provisioning"]
    secret = bytes.fromhex(bundle["device_secret"])
    assert len(secret) == 32 and door["device_secret"] == bundle["device_secret"]
    assert bundle["door_id"] == door["id"] and bundle["device_id"] == door["device_id"]
    assert (bundle["key_generation"], bundle["epoch"]) == (1, 1)
    assert bundle["site_key"] == site["site_key"]
    assert bundle["broker_username"] == door["device_id"] and len(bundle["broker_password"]) >= 32
    assert (door["epoch"], door["key_generation"], door["rekey_state"], door["retired"]) == (
        1,
        1,
        "none",
        False,
    )
    later = operator.ok("GET", f"/doors/{door['id']}")
    assert "provisioning" not in later and "device_secret" not in later
    with Session(db) as session:
        stored = _door(session, door["id"])
        assert door_keys(session=session, door=stored) == [(1, secret)]
        assert signing_key(session=session, door=stored) == (1, secret)
        assert pending_rekey(session=session, door=stored) is None
        key = _key_row(session, door["id"])
        assert mosquitto_hash_matches(bundle["broker_password"], key.broker_password_hash)
        assert not mosquitto_hash_matches(bundle["broker_password"] + "x", key.broker_password_hash)


def test_provisioning_again_replaces_secret_and_password_and_bumps_the_epoch(
    operator: Api, db: Engine
) -> None:
    door = make_door(operator)
    first = door["provisioning"]
    second = operator.ok("POST", f"/doors/{door['id']}/provision")
    assert (second["epoch"], second["key_generation"]) == (2, 2)
    assert second["device_secret"] != first["device_secret"]
    assert second["broker_password"] != first["broker_password"]
    assert second["site_key"] == first["site_key"]
    shown = operator.ok("GET", f"/doors/{door['id']}")
    assert (shown["epoch"], shown["key_generation"]) == (2, 2)
    with Session(db) as session:
        stored = _door(session, door["id"])
        assert door_keys(session=session, door=stored) == [(2, bytes.fromhex(second["device_secret"]))]
        key = _key_row(session, door["id"])
        assert mosquitto_hash_matches(second["broker_password"], key.broker_password_hash)
        assert not mosquitto_hash_matches(first["broker_password"], key.broker_password_hash)


def test_rotation_runs_pending_delivered_confirmed_without_a_gap(operator: Api, db: Engine) -> None:
    door = make_door(operator)
    old = bytes.fromhex(door["device_secret"])
    started = operator.ok("POST", f"/doors/{door['id']}/rotate-secret", 202)
    assert started == {
        "door_id": door["id"],
        "key_generation": 1,
        "next_generation": 2,
        "rekey_state": "pending",
    }
    refused = operator.post(f"/doors/{door['id']}/rotate-secret")
    assert refused.status_code == 409 and "in flight" in refused.json()["detail"]
    with Session(db) as session:
        stored = _door(session, door["id"])
        pending = pending_rekey(session=session, door=stored)
        assert pending is not None and (pending.gen, pending.state) == (2, "pending")
        new = pending.secret
        assert len(new) == 32 and new != old and new.hex() not in repr(pending)
        # Until the lock answers under the new key: uplinks verify under either, downlinks use the old one.
        assert door_keys(session=session, door=stored) == [(1, old), (2, new)]
        assert signing_key(session=session, door=stored) == (1, old)
        assert confirm_key(session=session, door=stored, gen=1) is False  # the current key: no change
        mark_rekey_delivered(session=session, door=stored, gen=3)  # not the rotation in flight: ignored
        assert _key_row(session, door["id"]).rekey_state == "pending"
        mark_rekey_delivered(session=session, door=stored, gen=2)
        session.commit()
        assert operator.ok("GET", f"/doors/{door['id']}")["rekey_state"] == "delivered"
        assert door_keys(session=session, door=stored) == [(1, old), (2, new)]
        assert confirm_key(session=session, door=stored, gen=3) is False
        sealed_old = _key_row(session, door["id"]).secret_sealed
        assert confirm_key(session=session, door=stored, gen=2) is True
        session.commit()
        # Confirmed: the new key alone, the old one erased from the row.
        assert door_keys(session=session, door=stored) == [(2, new)]
        assert signing_key(session=session, door=stored) == (2, new)
        assert pending_rekey(session=session, door=stored) is None
        assert confirm_key(session=session, door=stored, gen=2) is False
        key = _key_row(session, door["id"])
        assert (key.gen, key.rekey_state, key.next_secret_sealed) == (2, "confirmed", None)
    dump = _door_key_dump(db)
    assert sealed_old not in dump
    shown = operator.ok("GET", f"/doors/{door['id']}")
    assert (shown["key_generation"], shown["rekey_state"]) == (2, "confirmed")
    again = operator.ok("POST", f"/doors/{door['id']}/rotate-secret", 202)
    assert (again["key_generation"], again["next_generation"]) == (2, 3)


def _door_key_dump(db: Engine) -> str:
    with db.connect() as connection:
        return repr(connection.execute(text("SELECT * FROM door_key")).all())


def test_provisioning_during_a_rotation_never_reuses_the_generation_in_flight(
    operator: Api, db: Engine
) -> None:
    door = make_door(operator)
    operator.ok("POST", f"/doors/{door['id']}/rotate-secret", 202)
    bundle = operator.ok("POST", f"/doors/{door['id']}/provision")
    assert bundle["key_generation"] == 3  # generation 2 may be on the lock already (a delivered rekey)
    with Session(db) as session:
        stored = _door(session, door["id"])
        assert pending_rekey(session=session, door=stored) is None
        assert door_keys(session=session, door=stored) == [(3, bytes.fromhex(bundle["device_secret"]))]


def test_site_rotation_rotates_every_lock_that_can_and_says_why_not_the_others(
    admin: Api, operator: Api, site: dict[str, Any], db: Engine
) -> None:
    ready, rotating, retired = (make_door(operator, name) for name in ("Ready", "Rotating", "Retired"))
    operator.ok("POST", f"/doors/{rotating['id']}/rotate-secret", 202)
    operator.ok("POST", f"/doors/{retired['id']}/retire")
    assert operator.post(f"/sites/{site['id']}/rotate-key").status_code == 403  # admins only
    answer = admin.ok("POST", f"/sites/{site['id']}/rotate-key", 202)
    assert answer["site_id"] == site["id"]
    assert [(r["door_id"], r["next_generation"]) for r in answer["rotated"]] == [(ready["id"], 2)]
    skipped = {s["door_id"]: s["reason"] for s in answer["skipped"]}
    assert set(skipped) == {rotating["id"], retired["id"]}
    assert "in flight" in skipped[rotating["id"]] and "retired" in skipped[retired["id"]]
    with Session(db) as session:
        pending = pending_rekey(session=session, door=_door(session, ready["id"]))
        assert pending is not None and pending.gen == 2


def test_a_retired_door_has_no_keys_no_broker_account_and_accepts_nothing(operator: Api, db: Engine) -> None:
    door, other = make_door(operator), make_door(operator)
    operator.ok("POST", f"/doors/{door['id']}/rotate-secret", 202)
    retired = operator.ok("POST", f"/doors/{door['id']}/retire")
    assert retired["retired"] is True and retired["key_generation"] == 0 and retired["online"] is False
    assert operator.ok("POST", f"/doors/{door['id']}/retire")["retired"] is True  # idempotent
    for path in ("provision", "rotate-secret"):
        refused = operator.post(f"/doors/{door['id']}/{path}")
        assert refused.status_code == 409 and "retired" in refused.json()["detail"], path
    assert operator.post(f"/doors/{door['id']}/commands", json={"action": "unlock"}).status_code == 409
    with Session(db) as session:
        stored = _door(session, door["id"])
        assert session.get(DoorKey, door["id"]) is None
        assert door_keys(session=session, door=stored) == []
        assert pending_rekey(session=session, door=stored) is None
        assert confirm_key(session=session, door=stored, gen=2) is False
        with pytest.raises(DoorRetired):
            signing_key(session=session, door=stored)
        accounts = [line.split(":", 1)[0] for line in password_file_lines(session=session)]
        assert accounts == [other["device_id"]]
    # The door, its history and its rules stay: it is still listed.
    assert door["id"] in [d["id"] for d in operator.ok("GET", "/doors")["data"]]


def test_deleting_a_door_deletes_its_keys(operator: Api, db: Engine) -> None:
    door = make_door(operator)
    operator.ok("DELETE", f"/doors/{door['id']}", 204)
    with Session(db) as session:
        assert session.get(DoorKey, door["id"]) is None
