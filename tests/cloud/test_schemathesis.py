"""Property-based run of every operation in the OpenAPI schema, with a valid key: never a 5xx.

Once with a global admin key, once (fewer examples) with an operator key bound to the site, whose requests
take the site-scoped paths (another site's ids, bodies without site_id). Bounded and derandomized so both
databases together take about a minute and a half.
"""

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import Engine

from tests.cloud.conftest import Api, issue_key
from tests.cloud.helpers import card_hex, ingest, make_door, make_rule, make_user

pytestmark = pytest.mark.slow
MAX_EXAMPLES = 12
SITE_KEY_EXAMPLES = 5


@pytest.fixture
def api_schema(app: FastAPI, db: Engine, admin: Api) -> Any:
    """The app's schema, with a small site in the database so some generated ids exist."""
    site = admin.ok("POST", "/sites", 201, json={"name": "Fuzz", "timezone": "Europe/Paris"})
    door = make_door(admin, site_id=site["id"])
    user = make_user(admin, "Fuzz", site_id=site["id"], card=card_hex())
    admin.ok("POST", "/zones", 201, json={"name": "Z", "site_id": site["id"], "door_ids": [door["id"]]})
    make_rule(admin, user_id=user["id"], door_id=door["id"], site_id=site["id"])
    ingest(db, door["id"], [[1, 1_790_000_000, "granted", user["credential"]["cred_hash"], ""]])
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def fuzz_key(db: Engine) -> str:
    return issue_key(db, "admin", None, "fuzzer")


def _fuzz(operation: Any, mode: GenerationMode, key: str, examples: int = MAX_EXAMPLES) -> None:
    try:
        strategy = operation.as_strategy(mode, headers={"Authorization": f"Bearer {key}"})
    except Exception as error:  # an operation with nothing to make invalid has no negative strategy
        if mode is GenerationMode.NEGATIVE:
            return
        raise error

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        response = case.call()
        assert response.status_code < 500, (
            case.method,
            case.formatted_path,
            case.query,
            case.body,
            response.text[:500],
        )

    try:
        call()
    except Unsatisfiable:
        if mode is not GenerationMode.NEGATIVE:  # e.g. GET /healthz has no input to make invalid
            raise


def test_no_server_errors(api_schema: Any, fuzz_key: str) -> None:
    # schemathesis' pytest plugin does not support this pytest version; drive Hypothesis directly.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, fuzz_key)


def test_no_server_errors_with_a_site_bound_operator_key(api_schema: Any, admin: Api, db: Engine) -> None:
    [site] = [s for s in admin.ok("GET", "/sites")["data"] if s["name"] == "Fuzz"]
    admin.ok("POST", "/sites", 201, json={"name": "Elsewhere"})  # ids of a site the key cannot see
    key = issue_key(db, "operator", site["id"], "site fuzzer")
    for result in api_schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(result.ok(), mode, key, SITE_KEY_EXAMPLES)


def test_no_server_errors_from_an_integration_key(api_schema: Any, admin: Api, db: Engine) -> None:
    """The /integrations operations with a key of both scopes (and a rate limit it never reaches)."""
    [site] = [s for s in admin.ok("GET", "/sites")["data"] if s["name"] == "Fuzz"]
    [door] = admin.ok("GET", "/doors", params={"site_id": site["id"]})["data"]
    admin.ok("PATCH", f"/doors/{door['id']}", json={"face_threshold": 0.5})
    admin.ok("POST", "/groups", 201, json={"name": "Members", "site_id": site["id"]})
    body = {"name": "fuzz connector", "role": "integration", "site_id": site["id"]}
    body |= {"scopes": ["members", "verifications"], "rate_limit_per_min": 100_000}
    key = admin.ok("POST", "/api-keys", 201, json=body)["key"]
    operations = [
        r.ok() for r in api_schema.get_all_operations() if r.ok().path.startswith("/api/v1/integrations")
    ]
    assert len(operations) == 2
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, key, MAX_EXAMPLES * 2)
