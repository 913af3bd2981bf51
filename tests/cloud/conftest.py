"""Fixtures of the cloud tests: every API test runs on SQLite and on the real PostgreSQL server.

PostgreSQL isolation: each test session migrates its own fresh schema (cloud.scratch, dropped at the
end), so parallel runs on the same database do not collide. Between tests every table is emptied.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from cloud.auth.keys import create_api_key
from cloud.auth.operator import Operator
from cloud.main import create_app
from cloud.models.api_key import ApiKeyCreate
from cloud.scratch import scratch_database
from cloud.settings import Settings
from cloud.vault.master import forget_master_key

POSTGRES_URL = os.environ.get("CLOUD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
API = "/api/v1"
# The master key of every cloud test (subprocesses inherit it through the environment).
TEST_MASTER_KEY = "6f70656e616b6572756e2074657374206d6173746572206b6579202d2d2d2d21"


@pytest.fixture(scope="session", autouse=True)
def master_key() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAKERUN_MASTER_KEY", TEST_MASTER_KEY)
        forget_master_key()
        yield TEST_MASTER_KEY
    forget_master_key()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, master_key: str) -> Iterator[Engine]:
    with scratch_database(request.param, POSTGRES_URL, "cloudtest") as engine:
        yield engine


def empty_tables(engine: Engine) -> None:
    tables = [table.name for table in SQLModel.metadata.sorted_tables]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in tables) + " CASCADE"))
        else:
            for name in reversed(tables):
                connection.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    """The engine of this run's database, emptied before the test."""
    empty_tables(engine)
    yield engine


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with Session(db) as session:
        yield session


@pytest.fixture
def app(db: Engine) -> FastAPI:
    return create_app(Settings(auth_failure_limit=5, auth_failure_window_s=60), engine=db)


def issue_key(engine: Engine, role: str = "admin", site_id: int | None = None, name: str = "test") -> str:
    with Session(engine) as session:
        _, key = create_api_key(session=session, key_in=ApiKeyCreate(name=name, role=role, site_id=site_id))
        session.commit()
    return key


class Api:
    """A TestClient bound to one API key, with paths relative to /api/v1."""

    def __init__(self, client: TestClient, key: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.request(method, API + path, headers=self.headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, (response.status_code, response.text)
        return response.json() if response.content else None


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient, db: Engine) -> Api:
    """A global admin."""
    return Api(client, issue_key(db, "admin", None, "root"))


@pytest.fixture
def site(admin: Api) -> dict[str, Any]:
    """A site in Tokyo (no DST), with its key as shown once at creation."""
    return admin.ok("POST", "/sites", 201, json={"name": "HQ", "timezone": "Asia/Tokyo"})


@pytest.fixture
def operator(client: TestClient, db: Engine, site: dict[str, Any]) -> Api:
    """An operator bound to `site`."""
    return Api(client, issue_key(db, "operator", site["id"], "desk"))


@pytest.fixture
def actor() -> Operator:
    """A caller for service-level tests (audit entries need an actor)."""
    return Operator(key_id=0, name="service-test", role="admin", site_id=None)
