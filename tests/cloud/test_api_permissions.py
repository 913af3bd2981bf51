"""Effective permissions (wire format, merge, versions) and who-can-enter (windows, DST, door modes)."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared_schema.credentials import credential_hash
from shared_schema.messages import ROLE_ADMIN, ROLE_NORMAL, _entries
from shared_schema.schedule import ALL_DAYS
from tests.cloud.conftest import Api
from tests.cloud.helpers import card_hex, entries, make_door, make_rule, make_user

MON_TO_FRI = 0b0011111
MONDAY = 0b0000001


def _ts(zone: str, *parts: int) -> int:
    return int(datetime(*parts, tzinfo=ZoneInfo(zone)).timestamp())  # type: ignore[misc]


def test_entries_are_the_wire_format_sorted_by_hash(site: dict[str, Any], operator: Api) -> None:
    door = make_door(operator)
    cards = [card_hex() for _ in range(5)]
    for i, card in enumerate(cards):
        user = make_user(operator, f"U{i}", card=card)
        make_rule(
            operator,
            user_id=user["id"],
            door_id=door["id"],
            windows=[[MON_TO_FRI, 540, 1080]],
            valid_until=2_000_000_000,
        )
    state = entries(operator, door["id"])
    key = bytes.fromhex(site["site_key"])
    assert [e[0] for e in state["entries"]] == sorted(credential_hash(key, "felica", c) for c in cards)
    assert state["entries"][0][1:] == [ROLE_NORMAL, 0, 2_000_000_000, [[MON_TO_FRI, 540, 1080]]]
    assert state["count"] == 5
    for start in range(0, 5, 2):  # what the snapshot chunks will carry must pass the contract's checks
        assert _entries(state["entries"][start : start + 2])


def test_version_moves_only_when_the_door_list_changes(operator: Api) -> None:
    door, other = make_door(operator, "A"), make_door(operator, "B")
    assert entries(operator, door["id"])["version"] == 1
    user = make_user(operator, "Alice", card=card_hex())
    rule = make_rule(operator, user_id=user["id"], door_id=door["id"])
    assert entries(operator, door["id"])["version"] == 2
    assert entries(operator, other["id"])["version"] == 1
    # A second rule granting the same thing (any time, unbounded) leaves the merged entry unchanged.
    make_rule(operator, user_id=user["id"], door_id=door["id"], name="duplicate")
    assert entries(operator, door["id"])["version"] == 2
    operator.ok("PATCH", f"/access-rules/{rule['id']}", json={"name": "renamed"})
    assert entries(operator, door["id"])["version"] == 2
    operator.ok("PATCH", f"/access-rules/{rule['id']}", json={"role": "admin"})
    assert entries(operator, door["id"])["version"] == 3
    assert entries(operator, door["id"])["entries"][0][1] == ROLE_ADMIN
    assert operator.ok("GET", f"/doors/{door['id']}")["permission_version"] == 3


def test_suspended_users_and_disabled_rules_grant_nothing(operator: Api) -> None:
    door = make_door(operator)
    alice, bob = make_user(operator, "Alice", card=card_hex()), make_user(operator, "Bob", card=card_hex())
    make_rule(operator, user_id=alice["id"], door_id=door["id"])
    rule_b = make_rule(operator, user_id=bob["id"], door_id=door["id"])
    assert entries(operator, door["id"])["count"] == 2
    operator.ok("PATCH", f"/users/{alice['id']}", json={"status": "suspended"})
    operator.ok("PATCH", f"/access-rules/{rule_b['id']}", json={"enabled": False})
    assert entries(operator, door["id"])["entries"] == []
    operator.ok("PATCH", f"/users/{alice['id']}", json={"status": "active"})
    assert [e[0] for e in entries(operator, door["id"])["entries"]] == [alice["credential"]["cred_hash"]]


def test_group_zone_and_membership_changes_reach_the_right_doors(operator: Api) -> None:
    lab, office, lobby = (
        make_door(operator, "Lab"),
        make_door(operator, "Office"),
        make_door(operator, "Lobby"),
    )
    zone = operator.ok("POST", "/zones", 201, json={"name": "R&D", "door_ids": [lab["id"], office["id"]]})
    alice = make_user(operator, "Alice", card=card_hex())
    group = operator.ok("POST", "/groups", 201, json={"name": "R&D", "user_ids": []})
    make_rule(operator, group_id=group["id"], zone_id=zone["id"])
    assert entries(operator, lab["id"])["count"] == 0
    operator.ok("PUT", f"/groups/{group['id']}/members/{alice['id']}")
    assert entries(operator, lab["id"])["count"] == entries(operator, office["id"])["count"] == 1
    operator.ok("PUT", f"/zones/{zone['id']}/doors/{lobby['id']}")
    assert entries(operator, lobby["id"])["count"] == 1
    operator.ok("DELETE", f"/zones/{zone['id']}/doors/{lab['id']}")
    assert entries(operator, lab["id"])["count"] == 0
    phone = operator.ok("POST", "/credentials", 201, json={"user_id": alice["id"], "kind": "phone"})
    assert entries(operator, office["id"])["count"] == 2
    operator.ok("DELETE", f"/credentials/{phone['id']}", 204)
    operator.ok("DELETE", f"/users/{alice['id']}", 204)
    assert entries(operator, office["id"])["count"] == entries(operator, lobby["id"])["count"] == 0


def test_merge_of_several_grants_for_one_credential(operator: Api) -> None:
    door = make_door(operator)
    zone = operator.ok("POST", "/zones", 201, json={"name": "Z", "door_ids": [door["id"]]})
    alice = make_user(operator, "Alice", card=card_hex())
    group = operator.ok("POST", "/groups", 201, json={"name": "G", "user_ids": [alice["id"]]})
    make_rule(
        operator,
        user_id=alice["id"],
        door_id=door["id"],
        windows=[[MONDAY, 540, 600]],
        valid_from=1000,
        valid_until=5000,
    )
    make_rule(
        operator,
        group_id=group["id"],
        zone_id=zone["id"],
        role="admin",
        windows=[[0b0000010, 540, 600], [MONDAY, 1320, 360]],
        valid_from=2000,
        valid_until=9000,
    )
    [entry] = entries(operator, door["id"])["entries"]
    # admin if any; validity hull; same-span windows OR their days; sorted by (start, end).
    assert entry[1:] == [ROLE_ADMIN, 1000, 9000, [[0b0000011, 540, 600], [MONDAY, 1320, 360]]]


def test_windows_beyond_the_limit_are_dropped_and_reported(operator: Api) -> None:
    door = make_door(operator)
    alice = make_user(operator, "Alice", card=card_hex())
    for rule_index in range(2):
        windows = [[ALL_DAYS, 60 * (rule_index * 6 + i), 60 * (rule_index * 6 + i) + 30] for i in range(6)]
        make_rule(operator, user_id=alice["id"], door_id=door["id"], windows=windows)
    state = entries(operator, door["id"])
    assert len(state["entries"][0][4]) == 8 and state["truncated"] == 1


def test_who_can_enter_follows_windows_across_midnight(site: dict[str, Any], operator: Api) -> None:
    door = make_door(operator)
    night = make_user(operator, "Night guard", card=card_hex())
    day = make_user(operator, "Day staff", card=card_hex())
    make_user(operator, "No rule", card=card_hex())
    night_rule = make_rule(
        operator, user_id=night["id"], door_id=door["id"], name="nights", windows=[[MONDAY, 1320, 360]]
    )  # Monday 22:00 -> Tuesday 06:00, Tokyo time
    make_rule(operator, user_id=day["id"], door_id=door["id"], windows=[[MON_TO_FRI, 540, 1080]])

    def who(*local: int) -> list[str]:
        at = _ts("Asia/Tokyo", *local)
        answer = operator.ok("GET", f"/doors/{door['id']}/who-can-enter", params={"at": at})
        return [user["name"] for user in answer["users"]]

    assert who(2026, 1, 5, 23, 0) == ["Night guard"]  # Monday 23:00
    assert who(2026, 1, 6, 5, 59) == ["Night guard"]  # Tuesday 05:59
    assert who(2026, 1, 6, 6, 0) == []
    assert who(2026, 1, 6, 10, 0) == ["Day staff"]
    assert who(2026, 1, 10, 10, 0) == []  # Saturday
    answer = operator.ok("GET", f"/doors/{door['id']}/who-can-enter", params={"at": "2026-01-05T14:30:00Z"})
    assert answer["users"][0]["rules"] == [
        {"rule_id": night_rule["id"], "name": "nights", "role": "normal", "via_group_id": None}
    ]
    assert answer["users"][0]["credential_ids"] == [night["credential"]["id"]]


def test_who_can_enter_uses_the_site_timezone_across_dst(admin: Api) -> None:
    # 09:00-10:00 local every day: 08:00 UTC in winter (UTC+1), 07:00 UTC in summer (UTC+2).
    paris = admin.ok("POST", "/sites", 201, json={"name": "Paris", "timezone": "Europe/Paris"})
    door = make_door(admin, site_id=paris["id"])
    alice = make_user(admin, "Alice", site_id=paris["id"], card=card_hex())
    make_rule(
        admin, user_id=alice["id"], door_id=door["id"], site_id=paris["id"], windows=[[ALL_DAYS, 540, 600]]
    )

    def allowed(ts: int) -> bool:
        return bool(admin.ok("GET", f"/doors/{door['id']}/who-can-enter", params={"at": ts})["count"])

    winter_0930 = int(datetime(2026, 1, 15, 8, 30, tzinfo=UTC).timestamp())  # UTC+1
    summer_0930 = int(datetime(2026, 7, 15, 7, 30, tzinfo=UTC).timestamp())  # UTC+2
    assert allowed(winter_0930) and allowed(summer_0930)
    assert not allowed(winter_0930 - 3600) and not allowed(summer_0930 + 3600)


def test_validity_and_door_modes(operator: Api) -> None:
    door = make_door(operator)
    boss = make_user(operator, "Boss", card=card_hex())
    temp = make_user(operator, "Temp", card=card_hex())
    make_rule(operator, user_id=boss["id"], door_id=door["id"], role="admin")
    make_rule(
        operator, user_id=temp["id"], door_id=door["id"], valid_from=1_800_000_000, valid_until=1_800_086_400
    )

    def who(at: int) -> dict[str, Any]:
        return operator.ok("GET", f"/doors/{door['id']}/who-can-enter", params={"at": at})

    assert [u["name"] for u in who(1_800_000_000)["users"]] == ["Boss", "Temp"]
    assert [u["name"] for u in who(1_800_086_400)["users"]] == ["Boss"]
    operator.ok("PATCH", f"/doors/{door['id']}", json={"mode": "lockdown"})
    assert [u["name"] for u in who(1_800_000_000)["users"]] == ["Boss"]
    operator.ok(
        "PATCH", f"/doors/{door['id']}", json={"mode": "passage", "passage_windows": [[ALL_DAYS, 0, 720]]}
    )
    morning = _ts("Asia/Tokyo", 2027, 1, 15, 9, 0)
    assert who(morning)["passage_open"] is True
    assert who(morning + 6 * 3600)["passage_open"] is False
    assert operator.patch(f"/doors/{door['id']}", json={"passage_windows": []}).status_code == 422


def test_who_can_enter_rejects_bad_instants(operator: Api) -> None:
    door = make_door(operator)
    for bad in ("-5", "yesterday", "1960-01-01T00:00:00Z"):
        response = operator.get(f"/doors/{door['id']}/who-can-enter", params={"at": bad})
        assert response.status_code == 422, bad
