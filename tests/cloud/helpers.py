"""Small builders for the cloud tests: doors, users with cards, rules."""

from itertools import count
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import SQLModel

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
