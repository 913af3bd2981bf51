"""Every integer query parameter at its documented minimum and maximum, on real objects: never a 5xx.

Schemathesis draws mostly small numbers; the crashes found in review (SQLite overflow on a forged id,
datetime overflow in who-can-enter) sat at the far end of the allowed range, so that end is tried here.
"""

from typing import Any

from fastapi import FastAPI

from tests.cloud.conftest import API, Api
from tests.cloud.helpers import ingest, one_of_everything


def _integer_bounds(schema: dict[str, Any]) -> list[int]:
    options = schema.get("anyOf", [schema])
    bounds = []
    for option in options:
        if option.get("type") == "integer":
            bounds += [option[key] for key in ("minimum", "maximum") if key in option]
    return bounds


def test_integer_query_parameters_at_their_bounds(app: FastAPI, admin: Api, db: Any) -> None:
    site = admin.ok("POST", "/sites", 201, json={"name": "Edge", "timezone": "Pacific/Chatham"})
    ids = one_of_everything(admin, site["id"], "edge")
    ingest(db, ids["door_id"], [[1, 1_790_000_000, "granted", ids["cred_hash"], ""]])
    tried = 0
    for path, operations in app.openapi()["paths"].items():
        operation = operations.get("get")
        if operation is None or not path.startswith(API):
            continue
        url = path[len(API) :].format(**ids)
        required = {
            p["name"]: 0 for p in operation.get("parameters", []) if p["in"] == "query" and p.get("required")
        }
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            for value in _integer_bounds(parameter["schema"]):
                response = admin.get(url, params={**required, parameter["name"]: value})
                assert response.status_code < 500, (path, parameter["name"], value, response.text[:200])
                tried += 1
    assert tried >= 40
