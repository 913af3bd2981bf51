"""Rule validity and window shapes: 422 naming the field, on create and on update, and nothing written."""

from typing import Any

from sqlalchemy import Engine

from shared_schema.messages import MAX_COUNTER
from tests.cloud.conftest import API, Api
from tests.cloud.helpers import database_state, make_door, make_rule, make_user

BAD_WINDOWS: list[tuple[Any, list[Any]]] = [
    ([[1, 540]], ["body", "windows"]),  # two parts
    ([[1, 540, 600, 0]], ["body", "windows"]),  # four parts
    ([[0, 540, 600]], ["body", "windows"]),  # no day
    ([[128, 540, 600]], ["body", "windows"]),  # a day bit beyond Sunday
    ([[1, 540, 540]], ["body", "windows"]),  # empty: start == end
    ([[1, 1440, 60]], ["body", "windows"]),  # start is a minute of the day, 0..1439
    ([[1, 0, 1441]], ["body", "windows", 0, 2]),
    ([[1, -1, 60]], ["body", "windows", 0, 1]),
    ([[1, 0, 10**30]], ["body", "windows", 0, 2]),
    ([[1, "540", 600]], ["body", "windows", 0, 1]),  # strings are not minutes
    ([[1, 540.0, 600]], ["body", "windows", 0, 1]),
    ([[True, 540, 600]], ["body", "windows", 0, 0]),
    ([[1, None, 600]], ["body", "windows", 0, 1]),
    ([1, 540, 600], ["body", "windows", 0]),  # not a list of windows
    ("always", ["body", "windows"]),
    ([[127, 60 * i, 60 * i + 30] for i in range(9)], ["body", "windows"]),  # more than 8
]


def _loc(response: Any) -> list[Any]:
    assert response.status_code == 422, response.text
    return list(response.json()["detail"][0]["loc"])


def test_bad_windows_are_422_on_the_field_for_rules_and_passage(operator: Api, db: Engine) -> None:
    door, user = make_door(operator), make_user(operator)
    rule = make_rule(operator, user_id=user["id"], door_id=door["id"])
    before = database_state(db)
    for windows, loc in BAD_WINDOWS:
        body = {"user_id": user["id"], "door_id": door["id"], "windows": windows}
        assert _loc(operator.post("/access-rules", json=body)) == loc, windows
        assert _loc(operator.patch(f"/access-rules/{rule['id']}", json={"windows": windows})) == loc, windows
        passage = {"mode": "passage", "passage_windows": windows}
        door_loc = ["body", "passage_windows", *loc[2:]]
        assert _loc(operator.patch(f"/doors/{door['id']}", json=passage)) == door_loc, windows
    assert database_state(db) == before


def test_windows_that_are_accepted(operator: Api) -> None:
    door, user = make_door(operator), make_user(operator)
    for windows in ([], [[127, 0, 1440]], [[1, 1320, 360]], [[64, 1439, 1]]):  # 1320 -> 360 crosses midnight
        rule = make_rule(operator, user_id=user["id"], door_id=door["id"], windows=windows)
        assert rule["windows"] == windows


def test_validity_must_not_be_empty_on_create_and_update(operator: Api, db: Engine) -> None:
    door, user = make_door(operator), make_user(operator)
    rule = make_rule(operator, user_id=user["id"], door_id=door["id"], valid_from=1000, valid_until=2000)
    before = database_state(db)
    for valid_from, valid_until in ((2000, 1000), (1000, 1000)):
        body = {
            "user_id": user["id"],
            "door_id": door["id"],
            "valid_from": valid_from,
            "valid_until": valid_until,
        }
        response = operator.post("/access-rules", json=body)
        assert _loc(response) == ["body", "valid_until"]
        assert "valid_until must be after valid_from" in response.json()["detail"][0]["msg"]
    # An update is checked against the stored other bound.
    assert _loc(operator.patch(f"/access-rules/{rule['id']}", json={"valid_until": 1000})) == [
        "body",
        "valid_until",
    ]
    assert _loc(operator.patch(f"/access-rules/{rule['id']}", json={"valid_from": 2500})) == [
        "body",
        "valid_until",
    ]
    for bad in (-1, MAX_COUNTER + 1, "soon"):
        assert _loc(operator.patch(f"/access-rules/{rule['id']}", json={"valid_from": bad})) == [
            "body",
            "valid_from",
        ]
    assert database_state(db) == before
    # 0 means unbounded on either side.
    assert operator.ok("PATCH", f"/access-rules/{rule['id']}", json={"valid_from": 0, "valid_until": 0})
    assert operator.ok("PATCH", f"/access-rules/{rule['id']}", json={"valid_from": 5000})["valid_until"] == 0


def test_a_rule_names_one_subject_and_one_target(operator: Api, db: Engine) -> None:
    door, user = make_door(operator), make_user(operator)
    group = operator.ok("POST", "/groups", 201, json={"name": "G"})
    zone = operator.ok("POST", "/zones", 201, json={"name": "Z"})
    before = database_state(db)
    for body, field in (
        ({"door_id": door["id"]}, "user_id"),
        ({"user_id": user["id"], "group_id": group["id"], "door_id": door["id"]}, "user_id"),
        ({"user_id": user["id"]}, "door_id"),
        ({"user_id": user["id"], "door_id": door["id"], "zone_id": zone["id"]}, "door_id"),
        ({"user_id": user["id"], "door_id": door["id"], "role": "owner"}, "role"),
    ):
        assert _loc(operator.post("/access-rules", json=body)) == ["body", field], body
    assert database_state(db) == before


def _unbounded_integers(schema: Any, components: dict[str, Any], where: str) -> list[str]:
    """Paths of integer inputs without a maximum in a JSON schema (refs, anyOf and arrays followed)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _unbounded_integers(components[name], components, f"{where}<{name}>")
    found = []
    if schema.get("type") == "integer" and "maximum" not in schema:
        found.append(where)
    for key in ("anyOf", "oneOf", "allOf"):
        for index, option in enumerate(schema.get(key, [])):
            found += _unbounded_integers(option, components, f"{where}|{index}")
    if "items" in schema:
        found += _unbounded_integers(schema["items"], components, f"{where}[]")
    for name, prop in schema.get("properties", {}).items():
        found += _unbounded_integers(prop, components, f"{where}.{name}")
    return found


def test_every_integer_input_has_a_maximum(app: Any) -> None:
    # An unbounded integer reaches the database: SQLite raises OverflowError (a 500) where PostgreSQL
    # refuses it; bounds in the schema give both a 422 on the field (a forged site_id did this).
    spec = app.openapi()
    components = spec["components"]["schemas"]
    unbounded = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{method} {path} {parameter['in']}.{parameter['name']}"
                unbounded += _unbounded_integers(parameter["schema"], components, where)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                unbounded += _unbounded_integers(body["schema"], components, f"{method} {path} body")
    assert unbounded == [], "\n".join(unbounded)


def test_text_no_database_can_store_is_422_and_never_echoed(operator: Api, db: Engine) -> None:
    user = make_user(operator)
    before = database_state(db)
    header = "type,external_id,name,email,group,kind,identifier,label\\n"
    for path, raw, field in (
        ("/users", '{"name": "a\\ud800b"}', "name"),
        ("/users", '{"name": "a\\u0000b"}', "name"),
        ("/groups", '{"name": "G", "description": "\\udfff"}', "description"),
        (
            "/credentials",
            '{"user_id": ' + str(user["id"]) + ', "kind": "phone", "label": "\\ud83d"}',
            "label",
        ),
        ("/import", '{"csv": "' + header + 'user,E1,a\\ud800b,,,,,\\n"}', "csv"),
        ("/import", '{"csv": "' + header + 'user,E1,a\\u0000b,,,,,\\n"}', "csv"),
    ):
        headers = {**operator.headers, "content-type": "application/json"}
        response = operator.client.post(API + path, content=raw, headers=headers)
        assert response.status_code == 422, (path, raw, response.text)
        assert response.json()["detail"][0]["loc"][:2] == ["body", field], (path, response.text)
    assert database_state(db) == before
    # A refused value is not repeated in the answer (it may be a card number or a key in the wrong field).
    pasted = "oak_" + "x" * 60
    for path, body in (
        ("/credentials", {"user_id": user["id"], "kind": "felica", "identifier": pasted}),
        ("/users", {"name": pasted * 4}),
        ("/doors", {"name": "x", "device_id": pasted}),
    ):
        response = operator.post(path, json=body)
        assert response.status_code == 422 and pasted not in response.text, (path, response.text)
        assert all("input" not in item for item in response.json()["detail"])
