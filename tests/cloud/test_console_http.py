"""The console over HTTP (TestClient, SQLite and PostgreSQL): sessions and cookies, CSRF and origin checks
on every post, roles enforced on the server, audit with the account as actor, language and timezone."""

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.routing import Mount

from cloud.accounts.models import ConsoleSession
from cloud.accounts.sessions import hash_token
from cloud.main import create_app
from cloud.settings import Settings
from tests.cloud.conftest import Api
from tests.cloud.console_client import ORIGIN, PASSWORD, ConsoleClient, make_account
from tests.cloud.helpers import database_state, ingest, make_door

# Posts that change the site's data (the others only concern the caller's own session or language).
NOT_CHANGES = {"/sign-in", "/sign-out", "/language", "/site"}


@pytest.fixture
def console_app(db: Engine) -> FastAPI:
    return create_app(Settings(trusted_proxies=["testclient"]), engine=db)


@pytest.fixture
def web(console_app: FastAPI) -> Iterator[ConsoleClient]:
    with TestClient(console_app, base_url=ORIGIN) as client:
        yield ConsoleClient(client)


@pytest.fixture
def other_web(console_app: FastAPI) -> Iterator[ConsoleClient]:
    with TestClient(console_app, base_url=ORIGIN) as client:
        yield ConsoleClient(client)


@pytest.fixture
def admin_api(console_app: FastAPI, db: Engine) -> Iterator[Api]:
    from tests.cloud.conftest import issue_key

    with TestClient(console_app) as client:
        yield Api(client, issue_key(db, "admin", None, "root"))


@pytest.fixture
def hq(admin_api: Api) -> dict[str, Any]:
    return admin_api.ok("POST", "/sites", 201, json={"name": "HQ", "timezone": "Asia/Tokyo"})


def console_posts(app: FastAPI) -> list[str]:
    """Every POST path of the console app mounted in `app` (read from the app, not listed by hand)."""
    mount = next(route for route in app.routes if isinstance(route, Mount) and route.path == "/console")
    return sorted(
        context.path
        for context in iter_route_contexts(mount.app.routes)  # type: ignore[attr-defined]
        if "POST" in (getattr(context, "methods", None) or set())
    )


def concrete(path: str, ids: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: str(ids[match.group(1)]), path)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_sign_in_sets_a_strict_secure_httponly_cookie_and_stores_only_its_hash(
    web: ConsoleClient, db: Engine, hq: dict[str, Any]
) -> None:
    make_account(db, "alice", "admin")
    assert web.get("/", follow_redirects=False).headers["location"] == "/console/sign-in?next=/console/"
    response = web.sign_in("alice")
    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("oak_console="))
    token = cookie.split(";")[0].split("=", 1)[1]
    for attribute in ("Secure", "HttpOnly", "SameSite=strict", "Path=/console"):
        assert attribute in cookie
    with Session(db) as session:
        stored = session.exec(select(ConsoleSession)).one()
    assert stored.token_hash == hash_token(token)
    page = web.get("/")
    assert page.status_code == 200 and "alice" in page.text and "HQ" in page.text
    assert token not in page.text  # the CSRF token is derived from it, never the token itself


def test_wrong_password_and_unknown_user_get_the_same_generic_refusal(
    web: ConsoleClient, db: Engine, hq: dict[str, Any]
) -> None:
    make_account(db, "alice", "operator")
    wrong = web.sign_in("alice", "not the password")
    unknown = web.sign_in("nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Sign-in failed" in wrong.text and text_of(wrong.text) == text_of(unknown.text).replace(
        web.token, web.token
    )
    assert "oak_console=" not in " ".join(wrong.headers.get_list("set-cookie"))
    with Session(db) as session:
        assert session.exec(select(ConsoleSession)).all() == []


def test_lockout_is_per_address_through_a_trusted_proxy(
    web: ConsoleClient, other_web: ConsoleClient, db: Engine, hq: dict[str, Any]
) -> None:
    """The app trusts the test client as its proxy, so X-Forwarded-For names the client's address."""
    make_account(db, "alice", "operator")
    attacker = {"Origin": ORIGIN, "X-Forwarded-For": "198.51.100.9"}
    office = {"Origin": ORIGIN, "X-Forwarded-For": "203.0.113.7"}
    settings = Settings()
    for _ in range(settings.sign_in_free_failures + 1):
        assert web.sign_in("alice", "guess", headers=attacker).status_code == 401
    # Now delayed: even the right password from the attacker's address is refused, with the same text.
    assert web.sign_in("alice", PASSWORD, headers=attacker).status_code == 401
    assert other_web.sign_in("alice", PASSWORD, headers=office).status_code == 303
    # A client that is not a trusted proxy cannot pick its address with the header.
    assert client_address_of({"x-forwarded-for": "203.0.113.7"}, peer="192.0.2.1", trusted=[]) == "192.0.2.1"
    assert client_address_of({"x-forwarded-for": "1.2.3.4, 203.0.113.7"}, "10.0.0.1", ["10.0.0.1"]) == (
        "203.0.113.7"
    )
    assert client_address_of({"x-forwarded-for": "junk"}, "10.0.0.1", ["10.0.0.1"]) == "10.0.0.1"


def client_address_of(headers: dict[str, str], peer: str, trusted: list[str]) -> str:
    from starlette.requests import Request

    from cloud.console.security import client_address

    scope = {
        "type": "http",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": (peer, 1234),
    }
    return client_address(Request(scope), trusted)


def test_one_address_spraying_many_usernames_is_slowed_down(
    web: ConsoleClient, db: Engine, hq: dict[str, Any]
) -> None:
    make_account(db, "alice", "operator")
    sprayer = {"Origin": ORIGIN, "X-Forwarded-For": "198.51.100.77"}
    for index in range(Settings().sign_in_address_limit):
        assert web.sign_in(f"user{index}", "guess", headers=sprayer).status_code == 401
    assert web.sign_in("alice", PASSWORD, headers=sprayer).status_code == 401
    assert (
        web.sign_in("alice", PASSWORD, headers={**sprayer, "X-Forwarded-For": "192.0.2.50"}).status_code
        == 303
    )


def test_every_post_without_the_right_token_or_origin_is_refused_and_writes_nothing(
    console_app: FastAPI, web: ConsoleClient, db: Engine, hq: dict[str, Any], admin_api: Api
) -> None:
    make_account(db, "alice", "admin")
    person = admin_api.ok("POST", "/users", 201, json={"name": "Bob", "site_id": hq["id"]})
    group = admin_api.ok("POST", "/groups", 201, json={"name": "Night", "site_id": hq["id"]})
    ids = {"user_id": person["id"], "group_id": group["id"]}
    assert web.sign_in("alice").status_code == 303
    web.get("/people")
    good = web.token
    posts = console_posts(console_app)
    assert len(posts) >= 9, posts
    before = database_state(db)
    data = {
        "name": "Forged",
        "status": "suspended",
        "user_id": str(person["id"]),
        "lang": "ja",
        "site_id": "1",
    }
    for path in posts:
        target = concrete(path, ids)
        for label, token, headers in (
            ("no token", "", None),
            ("wrong token", good[:-2] + "xx", None),
            ("token of the pre-session form", web.client.cookies.get("oak_console_form") or "x", None),
            ("foreign origin", good, {"Origin": "https://evil.example"}),
            ("foreign referer", good, {"Referer": "https://evil.example/console/"}),
            ("no origin or referer", good, {}),
        ):
            response = web.post(target, data, token=token, headers=headers)
            assert response.status_code == 403, (path, label, response.status_code)
    assert database_state(db) == before
    # The same post with the token and this origin works (the refusals above were not for another reason).
    assert web.post("/people", {"name": "Real"}).status_code == 303
    assert (
        web.post("/people", {"name": "Real too"}, headers={"Referer": ORIGIN + "/console/people"}).status_code
        == 303
    )


def test_a_viewer_sees_no_change_form_and_every_change_post_is_403(
    console_app: FastAPI, web: ConsoleClient, db: Engine, hq: dict[str, Any], admin_api: Api
) -> None:
    make_account(db, "vera", "viewer")
    person = admin_api.ok("POST", "/users", 201, json={"name": "Bob", "site_id": hq["id"]})
    group = admin_api.ok(
        "POST", "/groups", 201, json={"name": "Night", "site_id": hq["id"], "user_ids": [person["id"]]}
    )
    ids = {"user_id": person["id"], "group_id": group["id"]}
    assert web.sign_in("vera").status_code == 303
    allowed_actions = {f"/console{path}" for path in NOT_CHANGES}
    for page in (
        "/",
        "/people",
        f"/people/{person['id']}",
        "/groups",
        f"/groups/{group['id']}?q=Bob",
        "/entries",
        "/audit",
    ):
        html = web.get(page).text
        actions = set(re.findall(r'<form method="post" action="([^"]+)"', html))
        assert actions <= allowed_actions, (page, actions - allowed_actions)
    before = database_state(db)
    changes = [path for path in console_posts(console_app) if path not in NOT_CHANGES]
    assert len(changes) >= 5, changes
    for path in changes:
        response = web.post(
            concrete(path, ids), {"name": "Sneaky", "status": "suspended", "user_id": str(person["id"])}
        )
        assert response.status_code == 403, path
        assert "look but not change" in response.text
    assert database_state(db) == before


def test_console_changes_go_through_the_domain_functions_and_are_audited_as_the_account(
    web: ConsoleClient, db: Engine, hq: dict[str, Any], admin_api: Api
) -> None:
    account_id = make_account(db, "Mona", "operator", site_id=hq["id"])
    door = make_door(admin_api, "Front", site_id=hq["id"])
    assert web.sign_in("mona").status_code == 303
    added = web.post("/people", {"name": "Carol", "email": "carol@example.com", "external_id": "E7"})
    user_id = int(added.headers["location"].split("/")[-1].split("?")[0])
    assert web.get(added.headers["location"].removeprefix("/console")).status_code == 200
    assert web.post(f"/people/{user_id}/status", {"status": "suspended"}).status_code == 303
    group = web.post("/groups", {"name": "Cleaners", "description": "evenings"})
    group_id = int(group.headers["location"].split("/")[-1].split("?")[0])
    assert web.post(f"/groups/{group_id}/members", {"user_id": str(user_id)}).status_code == 303
    assert web.post(f"/groups/{group_id}/members/remove", {"user_id": str(user_id)}).status_code == 303
    audit = admin_api.ok("GET", "/audit", params={"site_id": hq["id"]})["data"]
    mine = [entry for entry in audit if entry["actor_kind"] == "account"]
    assert [(e["action"], e["entity"]) for e in reversed(mine)] == [
        ("create", "user"),
        ("update", "user"),
        ("create", "group"),
        ("add_member", "group"),
        ("remove_member", "group"),
    ]
    assert all(
        e["actor"] == "mona" and e["actor_account_id"] == account_id and e["actor_key_id"] is None
        for e in mine
    )
    suspended = next(e for e in mine if e["action"] == "update")
    assert suspended["before"]["status"] == "active" and suspended["after"]["status"] == "suspended"
    # The API sees the same person, suspended (one copy of the rules).
    assert admin_api.ok("GET", f"/users/{user_id}")["status"] == "suspended"
    # The audit page shows it with before/after; API-key changes are shown as such.
    page = text_of(web.get("/audit").text)
    assert "mona (console account)" in page and "root (API key)" in page
    assert "status active suspended" in page
    assert door["name"] in text_of(web.get("/").text)


def test_form_errors_are_shown_in_place_and_write_nothing(
    web: ConsoleClient, db: Engine, hq: dict[str, Any], admin_api: Api
) -> None:
    make_account(db, "alice", "admin")
    admin_api.ok("POST", "/users", 201, json={"name": "Bob", "external_id": "E1", "site_id": hq["id"]})
    assert web.sign_in("alice").status_code == 303
    web.get("/people")
    before = database_state(db)
    empty = web.post("/people", {"name": "", "email": "x@example.com"})
    assert empty.status_code == 422 and "Required." in empty.text and 'value="x@example.com"' in empty.text
    duplicate = web.post("/people", {"name": "Bobby", "external_id": "E1"})
    assert duplicate.status_code == 409 and "already used" in duplicate.text
    too_long = web.post("/groups", {"name": "g" * 201})
    assert too_long.status_code == 422 and "at most 200" in too_long.text
    assert database_state(db) == before


def test_people_search_matches_literally_and_pages(
    web: ConsoleClient, db: Engine, hq: dict[str, Any], admin_api: Api
) -> None:
    make_account(db, "alice", "viewer")
    for index in range(30):
        admin_api.ok("POST", "/users", 201, json={"name": f"Worker {index:02d}", "site_id": hq["id"]})
    admin_api.ok(
        "POST", "/users", 201, json={"name": "100% Sato", "email": "sato@example.com", "site_id": hq["id"]}
    )
    admin_api.ok(
        "POST", "/users", 201, json={"name": "山田 花子", "external_id": "J_01", "site_id": hq["id"]}
    )
    assert web.sign_in("alice").status_code == 303
    first = text_of(web.get("/people").text)
    assert "Page 1 of 2 (32 in all)" in first
    assert "Worker 24" in first and "Worker 25" not in first
    assert "Worker 25" in text_of(web.get("/people?page=2").text)
    assert "100% Sato" in text_of(web.get("/people?q=%25").text)
    assert "Worker" not in text_of(web.get("/people?q=%25").text)
    assert "山田 花子" in text_of(web.get("/people?q=J_0").text)
    assert "Worker" not in text_of(web.get("/people?q=_").text.split("People of this site")[-1])
    assert "1 in all" in text_of(web.get("/people?q=SATO@").text)
    # The same search in the REST API.
    assert [u["name"] for u in admin_api.ok("GET", "/users", params={"q": "山田"})["data"]] == ["山田 花子"]


def test_a_site_bound_account_sees_only_its_site(
    web: ConsoleClient, db: Engine, hq: dict[str, Any], admin_api: Api
) -> None:
    branch = admin_api.ok("POST", "/sites", 201, json={"name": "Branch", "timezone": "Europe/Paris"})
    stranger = admin_api.ok("POST", "/users", 201, json={"name": "Stranger", "site_id": branch["id"]})
    make_account(db, "local", "operator", site_id=hq["id"])
    assert web.sign_in("local").status_code == 303
    assert web.get(f"/people/{stranger['id']}").status_code == 404
    before = database_state(db)
    assert web.post(f"/people/{stranger['id']}/status", {"status": "suspended"}).status_code == 404
    assert web.post(f"/groups/{1}/members", {"user_id": str(stranger["id"])}).status_code == 404
    web.post("/site", {"site_id": str(branch["id"])})
    assert "Stranger" not in web.get("/people").text and "Branch" not in web.get("/").text
    assert database_state(db) == before


def test_a_global_account_switches_site_and_times_follow_its_zone(
    web: ConsoleClient, db: Engine, hq: dict[str, Any], admin_api: Api
) -> None:
    paris = admin_api.ok("POST", "/sites", 201, json={"name": "Paris office", "timezone": "Europe/Paris"})
    tokyo_door = make_door(admin_api, "Tokyo gate", site_id=hq["id"])
    paris_door = make_door(admin_api, "Paris gate", site_id=paris["id"])
    ts = 1_784_000_000  # 2026-07-14 03:33:20 UTC
    ingest(db, tokyo_door["id"], [[1, ts, "granted", "", ""]])
    ingest(db, paris_door["id"], [[1, ts, "denied", "", "no_entry"]])
    make_account(db, "root", "admin")
    assert web.sign_in("root").status_code == 303
    tokyo = text_of(web.get("/entries").text)
    assert "2026-07-14 12:33:20 JST" in tokyo and "Tokyo gate" in tokyo and "Paris gate" not in tokyo
    web.post("/site", {"site_id": str(paris["id"]), "next": "/console/entries"})
    paris_page = text_of(web.get("/entries").text)
    assert "2026-07-14 05:33:20 CEST" in paris_page and "Paris gate" in paris_page
    # Filters are read in the site's zone too: 05:33 Paris time is the event's instant.
    assert "Paris gate" in text_of(web.get("/entries?since=2026-07-14T05:33&until=2026-07-14T05:34").text)
    assert "No events match." in text_of(web.get("/entries?since=2026-07-14T05:34").text)
    bad = web.get("/entries?since=yesterday")
    assert bad.status_code == 200 and "Not a date and time." in bad.text


def test_sign_out_and_disabling_end_the_session(web: ConsoleClient, db: Engine, hq: dict[str, Any]) -> None:
    from cloud.accounts.service import find_account, set_disabled

    make_account(db, "alice", "operator")
    assert web.sign_in("alice").status_code == 303
    web.get("/")
    signed_out = web.post("/sign-out")
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/console/sign-in"
    assert web.get("/", follow_redirects=False).status_code == 303
    assert web.sign_in("alice").status_code == 303
    with Session(db) as session:
        account = find_account(session=session, username="alice")
        assert account is not None
        set_disabled(session=session, account=account, disabled=True)
        session.commit()
    assert web.get("/people", follow_redirects=False).status_code == 303
    refused = web.post("/people", {"name": "Late"})
    assert refused.status_code == 403 and "session has ended" in refused.text


def test_redirect_targets_stay_inside_the_console(web: ConsoleClient, db: Engine, hq: dict[str, Any]) -> None:
    make_account(db, "alice", "operator")
    for target, expected in (
        ("/console/people?q=a", "/console/people?q=a"),
        ("https://evil.example/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/console/\\evil.example", "/console/"),
        ("/consolex", "/console/"),
    ):
        web.get("/sign-in")
        response = web.post("/sign-in", {"username": "alice", "password": PASSWORD, "next": target})
        assert response.headers["location"] == expected, target
        web.client.cookies.clear()


def test_language_from_the_browser_then_the_switch(
    web: ConsoleClient, db: Engine, hq: dict[str, Any]
) -> None:
    make_account(db, "alice", "operator")
    japanese = web.get("/sign-in", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.8"})
    assert '<html lang="ja">' in japanese.text and "サインイン" in japanese.text
    english = web.get("/sign-in", headers={"Accept-Language": "fr-FR, en;q=0.5, ja;q=0.4"})
    assert '<html lang="en">' in english.text
    assert web.sign_in("alice").status_code == 303
    web.get("/people")
    switched = web.post("/language", {"lang": "ja", "next": "/console/people"})
    assert switched.status_code == 303 and switched.headers["location"] == "/console/people"
    page = web.get("/people", headers={"Accept-Language": "en"})
    assert (
        '<html lang="ja">' in page.text and "利用者を追加" in page.text and "拠点のタイムゾーン" in page.text
    )
    web.post("/language", {"lang": "xx"})
    assert '<html lang="ja">' in web.get("/people").text  # an unknown language changes nothing


def test_pages_carry_security_headers_and_are_not_cached(
    web: ConsoleClient, db: Engine, hq: dict[str, Any]
) -> None:
    page = web.get("/sign-in")
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "script" not in re.sub(r"script-src[^;]*", "", page.headers["content-security-policy"])
    assert "<script" not in page.text and " style=" not in page.text  # the CSP allows neither inline
    css = web.get("/static/console.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert web.get("/nowhere").status_code == 404
    # The console is not part of the REST API's OpenAPI document.
    assert not any(path.startswith("/console") for path in web.client.get("/openapi.json").json()["paths"])


def test_signing_in_again_replaces_the_session(web: ConsoleClient, db: Engine, hq: dict[str, Any]) -> None:
    make_account(db, "alice", "operator")
    assert web.sign_in("alice").status_code == 303
    first = web.client.cookies.get("oak_console")
    with Session(db) as session:  # an hour without a request: the session has gone idle
        record = session.exec(select(ConsoleSession)).one()
        record.last_seen_at -= Settings().console_session_idle_s
        session.add(record)
        session.commit()
    assert web.get("/", follow_redirects=False).status_code == 303
    assert web.sign_in("alice").status_code == 303
    second = web.client.cookies.get("oak_console")
    assert second and second != first
    with Session(db) as session:
        assert [row.token_hash for row in session.exec(select(ConsoleSession)).all()] == [hash_token(second)]


def test_no_password_or_session_token_reaches_a_log(
    web: ConsoleClient, db: Engine, hq: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # echo=True: statements and their parameters
    make_account(db, "alice", "operator")
    web.sign_in("alice", "a wrong password of some length")
    assert web.sign_in("alice").status_code == 303
    token = web.client.cookies.get("oak_console") or ""
    web.post("/people", {"name": "Logged person"})
    logged = caplog.text
    assert "SELECT" in logged and "operator_account" in logged, "the SQL log was not captured"
    for secret in (PASSWORD, "a wrong password of some length", token, web.token):
        assert secret not in logged
    assert "$argon2id$" not in logged
