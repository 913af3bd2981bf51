"""Small builders for the cloud tests: doors, users with cards, rules."""

from itertools import count
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, SQLModel

from cloud.events.service import IngestResult, ingest_events
from cloud.models.door import Door
from tests.cloud.conftest import Api

_serial = count(1)


def card_hex() -> str:
    """A fresh, valid FeliCa IDm (8 bytes)."""
    return f"0127{next(_serial):012x}"


def make_door(api: Api, name: str = "Door", **fields: Any) -> dict[str, Any]:
    body = {"name": name, "device_id": f"lock-{next(_serial)}", **fields}
    return api.ok("POST", "/doors", 201, json=body)


def make_user(api: Api, name: str = "User", card: str | None = None, **fields: Any) -> dict[str, Any]:
    user = api.ok("POST", "/users", 201, json={"name": name, **fields})
    if card is not None:
        user["credential"] = api.ok(
            "POST", "/credentials", 201, json={"user_id": user["id"], "kind": "felica", "identifier": card}
        )
    return user


def make_rule(api: Api, **fields: Any) -> dict[str, Any]:
    return api.ok("POST", "/access-rules", 201, json=fields)


def entries(api: Api, door_id: int) -> dict[str, Any]:
    return api.ok("GET", f"/doors/{door_id}/effective-permissions")


def database_state(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order: compare two to prove a request wrote nothing."""
    state = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            state[table.name] = [tuple(row) for row in rows]
    return state


def one_of_everything(api: Api, site_id: int, tag: str) -> dict[str, int]:
    """One object of every kind in the site, through a global admin key."""
    door = make_door(api, f"{tag} door", site_id=site_id)
    user = make_user(api, f"{tag} user", site_id=site_id, card=card_hex(), external_id=f"{tag}-member")
    zone = api.ok(
        "POST", "/zones", 201, json={"name": f"{tag} zone", "site_id": site_id, "door_ids": [door["id"]]}
    )
    group = api.ok(
        "POST", "/groups", 201, json={"name": f"{tag} group", "site_id": site_id, "user_ids": [user["id"]]}
    )
    rule = make_rule(api, group_id=group["id"], zone_id=zone["id"], site_id=site_id)
    key = api.ok(
        "POST", "/api-keys", 201, json={"name": f"{tag} kiosk", "role": "viewer", "site_id": site_id}
    )
    phone = api.ok("POST", f"/users/{user['id']}/mobile-keys", 201, json={"zone_id": zone["id"]})
    webhook = api.ok(
        "POST",
        "/webhooks",
        201,
        json={"url": f"https://hooks.example.com/{tag}", "kinds": ["entry_granted"], "site_id": site_id},
    )
    delivery = api.ok("POST", f"/webhooks/{webhook['id']}/ping", 202)
    return {
        "site_id": site_id,
        "door_id": door["id"],
        "user_id": user["id"],
        "zone_id": zone["id"],
        "group_id": group["id"],
        "rule_id": rule["id"],
        "credential_id": user["credential"]["id"],
        "key_id": key["id"],
        "mobile_key_id": phone["id"],
        "cred_hash": user["credential"]["cred_hash"],
        "webhook_id": webhook["id"],
        "delivery_id": delivery["id"],
        "external_id": user["external_id"],
    }


def ingest(db: Engine, door_id: int, events: list[list[Any]], received_at: int | None = None) -> IngestResult:
    """Store a batch of lock events for a door, as the MQTT sync will, and commit."""
    with Session(db) as session:
        door = session.get(Door, door_id)
        assert door is not None
        result = ingest_events(session=session, door=door, events=events, received_at=received_at)
        session.commit()
    return result
