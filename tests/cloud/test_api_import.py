"""POST /import: dry run, per-line errors, all or nothing, and the permissions it changes."""

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from cloud.models.credential import Credential
from cloud.models.user import Group, User
from tests.cloud.conftest import Api
from tests.cloud.helpers import entries, make_door, make_rule

HEADER = "type,external_id,name,email,group,kind,identifier,label\n"
GOOD = HEADER + (
    "group,,Engineering,,,,,Builds things\n"
    "user,E001,Alice Smith,alice@example.com,Engineering,,,\n"
    "user,E002,Bob Jones,,,,,\n"
    "credential,E001,,,,felica,01:27:00:00:00:00:00:01,Blue card\n"
    "credential,E002,,,,iso14443a,04A1B2C3D4E5F6,\n"
)


def _count(db: Engine, model: Any) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_dry_run_reports_and_writes_nothing(operator: Api, db: Engine) -> None:
    report = operator.ok("POST", "/import", json={"csv": GOOD, "dry_run": True})
    assert report["applied"] is False and report["errors"] == []
    assert (report["users_created"], report["groups_created"], report["credentials_created"]) == (2, 1, 2)
    assert report["memberships_added"] == 1 and report["lines"] == 5
    assert _count(db, User) == _count(db, Group) == _count(db, Credential) == 0


def test_import_applies_everything_and_updates_permissions(operator: Api, db: Engine) -> None:
    door = make_door(operator)
    operator.ok("POST", "/groups", 201, json={"name": "Engineering"})
    group_id = operator.ok("GET", "/groups")["data"][0]["id"]
    make_rule(operator, group_id=group_id, door_id=door["id"])
    version = entries(operator, door["id"])["version"]
    report = operator.ok("POST", "/import", json={"csv": GOOD})
    assert report["applied"] is True and report["groups_created"] == 0  # Engineering existed: reused
    assert _count(db, User) == 2 and _count(db, Credential) == 2
    state = entries(operator, door["id"])
    assert state["count"] == 1 and state["version"] == version + 1  # Alice, through Engineering
    # Re-importing the users is an update; re-importing the cards is refused as duplicates.
    again = operator.post("/import", json={"csv": GOOD})
    assert again.status_code == 422
    assert [(e["line"], e["field"]) for e in again.json()["errors"]] == [(5, "identifier"), (6, "identifier")]
    audit = operator.ok("GET", "/audit", params={"entity": "site"})["data"]
    assert audit[0]["action"] == "import" and audit[0]["after"]["users_created"] == 2


def test_one_bad_line_refuses_the_whole_file(operator: Api, db: Engine) -> None:
    bad = GOOD + (
        "user,,No Id,,,,,\n"
        "credential,E999,,,,felica,0127000000000009,\n"
        "credential,E001,,,,phone,,\n"
        "credential,E002,,,,felica,0102,\n"
        "user,E003,Carol,,Nonexistent,,,\n"
        "robot,E004,R2,,,,,\n"
        "user,E005,Too,many,fields,,,,,extra\n"
    )
    response = operator.post("/import", json={"csv": bad})
    assert response.status_code == 422
    errors = [(e["line"], e["field"]) for e in response.json()["errors"]]
    assert errors == [
        (7, "external_id"),
        (8, "external_id"),
        (9, "kind"),
        (10, "identifier"),
        (11, "group"),
        (12, "type"),
        (13, "line"),
    ]
    assert "E999" in response.json()["errors"][1]["message"]
    assert _count(db, User) == _count(db, Group) == _count(db, Credential) == 0


def test_missing_columns_and_viewer(operator: Api, client: Any, db: Engine, site: dict[str, Any]) -> None:
    response = operator.post("/import", json={"csv": "type,name\nuser,Alice\n"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header"
    from tests.cloud.conftest import issue_key

    viewer = Api(client, issue_key(db, "viewer", site["id"]))
    assert viewer.post("/import", json={"csv": GOOD}).status_code == 403


def test_malformed_csv_is_a_line_error_not_a_crash(operator: Api, db: Engine) -> None:
    huge = HEADER + "user,E1," + "x" * 200_000 + ",,,,,\n"
    response = operator.post("/import", json={"csv": huge})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "line"
    assert "not valid CSV" in response.json()["errors"][0]["message"]
    assert _count(db, User) == 0


def test_an_impossible_site_id_is_422_not_a_crash(operator: Api, admin: Api) -> None:
    for site_id in (10**30, 2**31, 0, -1):
        for api in (operator, admin):
            response = api.post("/import", json={"csv": GOOD, "site_id": site_id})
            assert response.status_code == 422, (site_id, response.text)
            assert response.json()["detail"][0]["loc"] == ["body", "site_id"]
