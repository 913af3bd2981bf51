"""A dump of the database (SELECT * of every table) after a full create flow holds no card identifier, phone
token, site key, device secret or broker password: not in clear, not as hex, not as base64. Credentials keep
only their hash, a masked tail and their assurance; duplicates are still found under any spelling."""

import base64
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from cloud.lockkeys.service import pending_rekey
from cloud.models.door import Door
from shared_schema.credentials import credential_hash
from tests.cloud.conftest import Api
from tests.cloud.helpers import make_door

HEADER = "type,external_id,name,email,group,kind,identifier,label\n"


def database_dump(engine: Engine) -> str:
    """Every value of every row of every table, as text."""
    values = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')).all():
                values.extend(str(value) for value in row)
    return "\n".join(values)


def spellings(secret: bytes | str) -> set[str]:
    """The ways a secret could sit in a text column: as given, hex (either case), base64 (both alphabets)."""
    if isinstance(secret, str):
        raw = bytes.fromhex(secret) if all(c in "0123456789abcdefABCDEF" for c in secret) else secret.encode()
        forms = {secret, secret.lower(), secret.upper()}
    else:
        raw, forms = secret, set()
    forms |= {raw.hex(), raw.hex().upper()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.add(encode(raw).decode().rstrip("="))
    return forms


def test_a_database_dump_holds_no_identifier_token_key_secret_or_password(
    admin: Api, operator: Api, site: dict[str, Any], db: Engine
) -> None:
    door = make_door(operator, "Front")
    again = operator.ok("POST", f"/doors/{door['id']}/provision")
    operator.ok("POST", f"/doors/{door['id']}/rotate-secret", 202)
    with Session(db) as session:
        stored = session.get(Door, door["id"])
        assert stored is not None
        pending = pending_rekey(session=session, door=stored)
        assert pending is not None
    user = operator.ok("POST", "/users", 201, json={"name": "Alice", "external_id": "E1"})
    cards = {"felica": "01:27:3A:4B:5C:6D:AB:CD", "iso14443a": "04a1b2c3d4e5f6"}
    enrolled = {
        kind: operator.ok(
            "POST", "/credentials", 201, json={"user_id": user["id"], "kind": kind, "identifier": identifier}
        )
        for kind, identifier in cards.items()
    }
    phone = operator.ok("POST", "/credentials", 201, json={"user_id": user["id"], "kind": "phone"})
    imported_card = "0127998877665544"
    operator.ok("POST", "/import", json={"csv": HEADER + f"credential,E1,,,,felica,{imported_card},Badge\n"})
    operator.ok("POST", "/access-rules", 201, json={"user_id": user["id"], "door_id": door["id"]})

    secrets = {
        "site key": site["site_key"],
        "first device secret": door["device_secret"],
        "second device secret": again["device_secret"],
        "next device secret": pending.secret,
        "first broker password": door["provisioning"]["broker_password"],
        "second broker password": again["broker_password"],
        "phone token": phone["token"],
        "felica card": cards["felica"].replace(":", ""),
        "iso14443a card": cards["iso14443a"],
        "imported card": imported_card,
    }
    dump = database_dump(db)
    assert door["device_id"] in dump and enrolled["felica"]["cred_hash"] in dump, "the dump is not complete"
    for name, secret in secrets.items():
        for form in spellings(secret):
            assert form not in dump, f"{name} is stored ({form[:6]}...)"

    # What is kept: the id the locks compute, a masked tail, the assurance.
    key = bytes.fromhex(site["site_key"])
    assert enrolled["felica"]["cred_hash"] == credential_hash(key, "felica", cards["felica"])
    assert enrolled["felica"]["identifier_hint"] == "felica:****ABCD"
    assert enrolled["iso14443a"]["identifier_hint"] == "iso14443a:****E5F6"
    assert phone["identifier_hint"] == "" and phone["assurance"] == "token"
    listed = {c["kind"] + c["label"]: c for c in operator.ok("GET", "/credentials")["data"]}
    assert listed["felicaBadge"]["identifier_hint"] == "felica:****5544"
    assert all("identifier" not in c and "token" not in c for c in listed.values())


def test_duplicates_are_found_under_any_spelling_from_the_api_and_the_import(
    operator: Api, site: dict[str, Any]
) -> None:
    user = operator.ok("POST", "/users", 201, json={"name": "Bob", "external_id": "E2"})
    operator.ok(
        "POST",
        "/credentials",
        201,
        json={"user_id": user["id"], "kind": "iso14443a", "identifier": "04A1B2C3D4E5F6"},
    )
    for spelling in (
        "04a1b2c3d4e5f6",
        "04:A1:B2:C3:D4:E5:F6",
        "04-a1-b2-c3-d4-e5-f6",
        "04 A1 B2 C3 D4 E5 F6",
    ):
        refused = operator.post(
            "/credentials", json={"user_id": user["id"], "kind": "iso14443a", "identifier": spelling}
        )
        assert refused.status_code == 409, spelling
        report = operator.post("/import", json={"csv": HEADER + f"credential,E2,,,,iso14443a,{spelling},\n"})
        assert report.status_code == 422 and report.json()["errors"][0]["field"] == "identifier", spelling
    # The same card is a different credential in another kind (the kind byte is hashed too).
    operator.ok(
        "POST",
        "/credentials",
        201,
        json={"user_id": user["id"], "kind": "felica", "identifier": "04A1B2C3D4E5F6AA"},
    )


def test_assurance_and_not_unique_are_stored_at_enrolment(operator: Api) -> None:
    user = operator.ok("POST", "/users", 201, json={"name": "Carol"})
    cases = [
        ("iso14443a", "1F223344", "nuid", True),  # MIFARE NUID: first byte ends in F
        ("felica", "02FE000000001234", "nuid", True),  # HCE-F range: any Android app may present it
        ("iso14443a", "11223344", "uid", False),
        ("felica", "0127000000001234", "uid", False),
    ]
    for kind, identifier, level, shared in cases:
        answer = operator.ok(
            "POST", "/credentials", 201, json={"user_id": user["id"], "kind": kind, "identifier": identifier}
        )
        assert (answer["assurance"], answer["not_unique"]) == (level, shared), identifier
        assert operator.ok("GET", f"/credentials/{answer['id']}")["not_unique"] is shared
