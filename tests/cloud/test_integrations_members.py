"""PUT /integrations/members/{external_id}: a membership or payment system's upsert by its own id.

A lapsed membership or an unpaid invoice closes the doors at once (a permission version step the sync
delivers); the same state sent again changes nothing, not even the audit trail."""

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.cloud.conftest import Api
from tests.cloud.helpers import card_hex, database_state, entries, make_door, make_rule
from tests.cloud.test_integration_keys import integration_key

Setup = dict[str, Any]


@pytest.fixture
def gym(admin: Api, client: TestClient, site: dict[str, Any]) -> Setup:
    """A site with a door the "Members" group may open at any time, and the billing system's key."""
    door = make_door(admin, "Gym floor", site_id=site["id"])
    group = admin.ok("POST", "/groups", 201, json={"name": "Members", "site_id": site["id"]})
    admin.ok("POST", "/groups", 201, json={"name": "Sauna", "site_id": site["id"]})
    make_rule(admin, group_id=group["id"], door_id=door["id"], site_id=site["id"])
    billing = integration_key(admin, client, site["id"], ["members"])
    return {"door": door, "group": group, "billing": billing, "card": card_hex(), "site": site}


def _state(gym: Setup, **changes: Any) -> dict[str, Any]:
    state = {
        "name": "Aiko Tanaka",
        "email": "aiko@example.com",
        "status": "active",
        "groups": ["Members"],
        "cards": [{"kind": "felica", "identifier": gym["card"], "label": "member card"}],
    }
    return {**state, **changes}


def _version(admin: Api, gym: Setup) -> int:
    return int(admin.ok("GET", f"/doors/{gym['door']['id']}")["permission_version"])


def test_create_then_the_same_state_again_changes_nothing(admin: Api, db: Engine, gym: Setup) -> None:
    created = gym["billing"].ok("PUT", "/integrations/members/G-1001", 201, json=_state(gym))
    assert created["created"] and created["changed"] and created["external_id"] == "G-1001"
    assert created["groups"] == ["Members"] and created["user"]["name"] == "Aiko Tanaka"
    (card,) = created["cards"]
    assert card["identifier_hint"].startswith("felica:****") and card["label"] == "member card"
    assert [e[0] for e in entries(admin, gym["door"]["id"])["entries"]] == [card["cred_hash"]]
    version = _version(admin, gym)
    before = database_state(db)
    again = gym["billing"].ok("PUT", "/integrations/members/G-1001", 200, json=_state(gym))
    assert not again["created"] and not again["changed"] and again["cards"] == created["cards"]
    assert database_state(db) == before  # no audit entry, no version step, nothing
    assert _version(admin, gym) == version
    # The same card given in another spelling is the same card.
    spaced = ":".join(gym["card"][i : i + 2] for i in range(0, 16, 2))
    same = _state(gym, cards=[{"kind": "felica", "identifier": spaced.upper(), "label": "member card"}])
    assert not gym["billing"].ok("PUT", "/integrations/members/G-1001", json=same)["changed"]


def test_an_unpaid_invoice_suspends_and_closes_the_door_at_once(admin: Api, gym: Setup) -> None:
    gym["billing"].ok("PUT", "/integrations/members/G-1", 201, json=_state(gym))
    version = _version(admin, gym)
    door_id = gym["door"]["id"]
    assert admin.ok("GET", f"/doors/{door_id}/who-can-enter")["count"] == 1
    suspended = gym["billing"].ok("PUT", "/integrations/members/G-1", json=_state(gym, status="suspended"))
    assert suspended["changed"] and suspended["user"]["status"] == "suspended"
    assert _version(admin, gym) == version + 1 and entries(admin, door_id)["entries"] == []
    assert admin.ok("GET", f"/doors/{door_id}/who-can-enter")["count"] == 0
    audit = admin.ok("GET", "/audit", params={"entity": "user"})["data"]
    assert [e["action"] for e in audit] == ["upsert", "upsert"]
    assert audit[0]["before"]["status"] == "active" and audit[0]["after"]["status"] == "suspended"
    assert gym["card"] not in str(audit) and gym["card"].upper() not in str(audit)  # hints only
    paid = gym["billing"].ok("PUT", "/integrations/members/G-1", json=_state(gym))
    assert (
        paid["changed"]
        and _version(admin, gym) == version + 2
        and len(entries(admin, door_id)["entries"]) == 1
    )


def test_a_lapsed_membership_bounds_every_grant_and_ends_access(admin: Api, gym: Setup) -> None:
    now = int(time.time())
    door_id = gym["door"]["id"]
    term = _state(gym, valid_from=now - 86400, valid_until=now + 86400)
    gym["billing"].ok("PUT", "/integrations/members/G-2", 201, json=term)
    (entry,) = entries(admin, door_id)["entries"]
    assert entry[2:4] == [now - 86400, now + 86400]  # the lock enforces the term offline too
    assert admin.ok("GET", f"/doors/{door_id}/who-can-enter")["count"] == 1
    lapsed = _state(gym, valid_from=now - 86400, valid_until=now - 60)
    gym["billing"].ok("PUT", "/integrations/members/G-2", json=lapsed)
    assert entries(admin, door_id)["entries"][0][3] == now - 60
    assert admin.ok("GET", f"/doors/{door_id}/who-can-enter")["count"] == 0
    in_the_term = admin.ok("GET", f"/doors/{door_id}/who-can-enter", params={"at": now - 3600})
    assert in_the_term["count"] == 1


def test_groups_and_cards_are_complete_sets_and_phones_are_left_alone(admin: Api, gym: Setup) -> None:
    gym["billing"].ok("PUT", "/integrations/members/G-3", 201, json=_state(gym))
    user_id = admin.ok("GET", "/users", params={"external_id": "G-3"})["data"][0]["id"]
    admin.ok("POST", "/credentials", 201, json={"user_id": user_id, "kind": "phone"})
    second = card_hex()
    cards = [
        {"kind": "felica", "identifier": gym["card"], "label": "renamed"},
        {"kind": "iso14443a", "identifier": second[:8], "label": "wristband"},
    ]
    moved = gym["billing"].ok(
        "PUT", "/integrations/members/G-3", json=_state(gym, groups=["Sauna"], cards=cards)
    )
    assert moved["groups"] == ["Sauna"] and [c["label"] for c in moved["cards"]] == ["renamed", "wristband"]
    assert entries(admin, gym["door"]["id"])["entries"] == []  # left Members: the door's rule is gone
    kinds = sorted(c["kind"] for c in admin.ok("GET", "/credentials", params={"user_id": user_id})["data"])
    assert kinds == ["felica", "iso14443a", "phone"]
    kept = gym["billing"].ok("PUT", "/integrations/members/G-3", json=_state(gym, groups=None, cards=None))
    assert not kept["changed"]  # omitted sets stay as they are (name, email, status unchanged)
    bare = gym["billing"].ok("PUT", "/integrations/members/G-3", json=_state(gym, groups=[], cards=[]))
    assert bare["groups"] == [] and bare["cards"] == []
    kinds = [c["kind"] for c in admin.ok("GET", "/credentials", params={"user_id": user_id})["data"]]
    assert kinds == ["phone"]


def test_refused_states_write_nothing_and_name_the_field(admin: Api, db: Engine, gym: Setup) -> None:
    someone = admin.ok("POST", "/users", 201, json={"name": "Other", "site_id": gym["site"]["id"]})
    taken = card_hex()
    admin.ok(
        "POST", "/credentials", 201, json={"user_id": someone["id"], "kind": "felica", "identifier": taken}
    )
    card = {"kind": "felica", "identifier": gym["card"]}
    before = database_state(db)
    for state, status, field in (
        (_state(gym, groups=["Members", "Nope"]), 422, "groups.1"),
        (_state(gym, cards=[{"kind": "felica", "identifier": "zz"}]), 422, "cards.0.identifier"),
        (_state(gym, cards=[card, card]), 422, "cards.1.identifier"),
        (_state(gym, valid_from=2_000_000_000, valid_until=1_900_000_000), 422, "valid_until"),
        (_state(gym, cards=[{"kind": "phone", "identifier": "00"}]), 422, "kind"),
        (_state(gym, cards=[card, {"kind": "felica", "identifier": taken}]), 409, None),
        (_state(gym, name=""), 422, "name"),
    ):
        response = gym["billing"].put("/integrations/members/G-4", json=state)
        assert response.status_code == status, (state, response.text)
        if field is not None:
            assert ".".join(str(part) for part in response.json()["detail"][0]["loc"][1:]).endswith(field)
        assert taken not in response.text
    assert gym["billing"].put("/integrations/members/" + "x" * 65, json=_state(gym)).status_code == 422
    assert gym["billing"].put("/integrations/members/a%00b", json=_state(gym)).status_code == 422
    assert database_state(db) == before


def test_members_of_another_site_are_out_of_reach(admin: Api, client: TestClient, gym: Setup) -> None:
    other = admin.ok("POST", "/sites", 201, json={"name": "Elsewhere"})
    admin.ok("POST", "/users", 201, json={"name": "Theirs", "external_id": "G-5", "site_id": other["id"]})
    mine = gym["billing"].ok("PUT", "/integrations/members/G-5", 201, json=_state(gym, groups=[], cards=[]))
    assert mine["user"]["site_id"] == gym["site"]["id"]  # a new member of the key's own site
    theirs = admin.ok("GET", "/users", params={"external_id": "G-5", "site_id": other["id"]})["data"][0]
    assert theirs["name"] == "Theirs"
    elsewhere = integration_key(admin, client, other["id"], ["members"])
    assert elsewhere.put("/integrations/members/G-5", json=_state(gym, groups=["Members"])).status_code == 422
