"""docs/SECURITY.md, "stolen lock": what one lock's flash (its provisioning bundle) gives, and what not.

It holds the site key, so it can compute the credential id of any card it reads (the site-wide blast radius,
which no rotation removes: the cloud keeps no identifier to re-derive ids from). It holds only its own device
secret: another lock's keys, table hashes and broker account are out of its reach, and after retirement and
a site rotation nothing it holds is accepted anywhere.
"""

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from cloud.lockkeys.broker import mosquitto_hash_matches
from cloud.lockkeys.models import DoorKey
from cloud.lockkeys.service import confirm_key, door_keys, pending_rekey
from cloud.models.door import Door
from shared_schema.credentials import credential_hash, table_hash, table_key
from tests.cloud.conftest import Api
from tests.cloud.helpers import make_door


def test_a_stolen_lock_yields_site_wide_ids_but_nothing_that_works_for_another_lock(
    admin: Api, operator: Api, site: dict[str, Any], db: Engine
) -> None:
    stolen, other = make_door(operator, "Stolen"), make_door(operator, "Other")
    flash = stolen["provisioning"]
    user = operator.ok("POST", "/users", 201, json={"name": "Dana"})
    card = operator.ok(
        "POST",
        "/credentials",
        201,
        json={"user_id": user["id"], "kind": "felica", "identifier": "0127000011112222"},
    )
    # Blast radius: with the site key, any card read anywhere maps to the id the cloud stores.
    assert (
        credential_hash(bytes.fromhex(flash["site_key"]), "felica", "0127000011112222") == card["cred_hash"]
    )
    # Per lock: the stolen secret is not the other lock's, nor are its table hashes or broker password.
    stolen_secret = bytes.fromhex(flash["device_secret"])
    other_secret = bytes.fromhex(other["device_secret"])
    assert stolen_secret != other_secret
    cred_id = card["cred_hash"]
    assert table_hash(table_key(stolen_secret), cred_id) != table_hash(table_key(other_secret), cred_id)
    with Session(db) as session:
        other_key = session.get(DoorKey, other["id"])
        assert other_key is not None
        assert not mosquitto_hash_matches(flash["broker_password"], other_key.broker_password_hash)

    # Response: retire the stolen lock, rotate the site: no key the stolen flash holds is accepted any more.
    operator.ok("POST", f"/doors/{stolen['id']}/retire")
    admin.ok("POST", f"/sites/{site['id']}/rotate-key", 202)
    with Session(db) as session:
        stolen_door, other_door = session.get(Door, stolen["id"]), session.get(Door, other["id"])
        assert stolen_door is not None and other_door is not None
        assert door_keys(session=session, door=stolen_door) == []
        pending = pending_rekey(session=session, door=other_door)
        assert pending is not None
        assert confirm_key(session=session, door=other_door, gen=pending.gen)  # the other lock answered
        session.commit()
        accepted = {secret for _, secret in door_keys(session=session, door=other_door)}
        assert accepted == {pending.secret} and stolen_secret not in accepted
