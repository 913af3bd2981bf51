"""A TestClient speaking to the console like a browser: HTTPS base URL (the session cookie is Secure),
Origin on posts, the CSRF token read from the last page."""

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from cloud.accounts.models import OperatorAccountCreate
from cloud.accounts.passwords import Passwords
from cloud.accounts.service import create_account
from cloud.settings import Settings

ORIGIN = "https://testserver"
PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def make_account(
    engine: Engine, username: str, role: str, site_id: int | None = None, password: str = PASSWORD
) -> int:
    with Session(engine) as session:
        account = create_account(
            session=session,
            passwords=Passwords(Settings()),
            account_in=OperatorAccountCreate(username=username, role=role, site_id=site_id),  # type: ignore[arg-type]
            password=password,
        )
        session.commit()
        assert account.id is not None
        return account.id


class ConsoleClient:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.client.get("/console" + path, **kwargs)
        found = _TOKEN.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        body = {"csrf_token": self.token if token is None else token, **(data or {})}
        if token == "":
            del body["csrf_token"]
        sent = {"Origin": ORIGIN} if headers is None else headers
        kwargs.setdefault("follow_redirects", False)
        return self.client.post("/console" + path, data=body, headers=sent, **kwargs)

    def sign_in(self, username: str, password: str = PASSWORD, **kwargs: Any) -> Any:
        """Sign in; when it works, load the dashboard so that the session's CSRF token is at hand."""
        self.get("/sign-in")
        response = self.post("/sign-in", {"username": username, "password": password}, **kwargs)
        if response.status_code == 303:
            self.get("/")
        return response
