"""10,000 users x 100 doors: a change recomputes only the doors it can affect (counted, not timed)."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session

from cloud.auth.operator import Operator
from cloud.bench.data import ZONE_DOORS, BigSite, build_big_site
from cloud.crud.groups import set_membership
from cloud.crud.rules import update_rule
from cloud.crud.users import update_user
from cloud.crud.zones import set_zone_door
from cloud.models.rule import AccessRule, AccessRuleUpdate
from cloud.models.user import Group, User, UserUpdate
from cloud.models.zone import Zone
from cloud.permissions import service
from cloud.permissions.models import DoorPermissions

USERS, DOORS = 10_000, 100
pytestmark = pytest.mark.slow


class Counter:
    """Wraps the real compute_door_entries and records which doors it computed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.doors: list[int] = []
        real = service.compute_door_entries

        def counting(*, session: Session, door_id: int) -> Any:
            self.doors.append(door_id)
            return real(session=session, door_id=door_id)

        monkeypatch.setattr(service, "compute_door_entries", counting)

    def take(self) -> list[int]:
        doors, self.doors = self.doors, []
        return doors


@pytest.fixture
def big(session: Session) -> Iterator[BigSite]:
    site = build_big_site(session, USERS, DOORS)
    service.recompute_doors(session=session, door_ids=site.door_ids)
    session.commit()
    yield site


def _versions(session: Session, door_ids: list[int]) -> dict[int, int]:
    session.expire_all()
    return {door_id: session.get(DoorPermissions, door_id).version for door_id in door_ids}  # type: ignore[union-attr]


def test_one_rule_change_recomputes_one_door(
    session: Session, big: BigSite, actor: Operator, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch)
    before = _versions(session, big.door_ids)
    rule = session.get(AccessRule, big.team_rule_ids[42])
    assert rule is not None
    report = update_rule(
        session=session, operator=actor, rule=rule, rule_in=AccessRuleUpdate(windows=[[31, 420, 1200]])
    )
    session.commit()
    assert counter.take() == [big.door_ids[42]]
    assert report.recomputed == report.changed == [big.door_ids[42]]
    after = _versions(session, big.door_ids)
    assert {d for d in big.door_ids if after[d] != before[d]} == {big.door_ids[42]}
    state = session.get(DoorPermissions, big.door_ids[42])
    assert state is not None and len(state.entries) == USERS // DOORS


def test_zone_rule_user_and_membership_changes_stay_local(
    session: Session, big: BigSite, actor: Operator, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch)
    zone_rule = session.get(AccessRule, big.zone_rule_id)
    assert zone_rule is not None
    update_rule(session=session, operator=actor, rule=zone_rule, rule_in=AccessRuleUpdate(role="admin"))
    assert sorted(counter.take()) == big.door_ids[:ZONE_DOORS]

    user = session.get(User, big.user_ids[7])  # team 7, and everyone
    assert user is not None
    update_user(session=session, operator=actor, user=user, user_in=UserUpdate(status="suspended"))
    assert sorted(counter.take()) == sorted(set(big.door_ids[:ZONE_DOORS]) | {big.door_ids[7]})

    team = session.get(Group, (session.get(AccessRule, big.team_rule_ids[9]) or zone_rule).group_id)
    assert team is not None
    set_membership(session=session, operator=actor, group=team, user_id=big.user_ids[1], member=True)
    assert counter.take() == [big.door_ids[9]]

    zone = session.get(Zone, big.zone_id)
    assert zone is not None
    set_zone_door(session=session, operator=actor, zone=zone, door_id=big.door_ids[50], member=True)
    assert counter.take() == [big.door_ids[50]]
    session.commit()
    # Every active user (all but the one suspended above) now reaches door 50 through the zone.
    assert len(session.get(DoorPermissions, big.door_ids[50]).entries) == USERS - 1  # type: ignore[union-attr]
