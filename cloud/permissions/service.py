"""Effective permissions: what each door's lock must enforce, recomputed only where a change lands.

Cost model. Computing one door's list is two indexed queries (rules reaching the door directly or via
its zones, joined to users' credentials; and the same through group membership), so it costs
O(R + G) where R is the number of rules reaching that door and G the number of (credential, rule)
grants they produce. A change recomputes only the doors it can affect:

- a rule (created, edited, enabled, deleted): its door, or its zone's doors (before and after);
- a user (suspended, deleted), a credential, a group membership: the doors reachable by that user's
  own rules and by the rules of that user's groups;
- a group deleted: the doors of that group's rules;
- a door added to / removed from a zone: that door only (the zone's other doors do not change);
- a door deleted: nothing to recompute (its list goes with it).

So one change costs O(sum over affected doors of R + G), independent of the number of other doors,
users and rules in the site. tests/cloud/test_permissions_scale.py checks it at 10,000 users x 100
doors by counting the doors recomputed. Each door's list is stored with its SHA-256 digest; the
door's version increases only when the digest changes, so a change that leaves a door's list as it
was (a rule edit that another rule already covers) does not make the lock resync.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from cloud.integrations.hooks import permission_versions_stepped
from cloud.models.common import now_ts
from cloud.models.credential import Credential
from cloud.models.rule import AccessRule
from cloud.models.user import GroupMember, User
from cloud.models.zone import ZoneDoor
from cloud.permissions.merge import Grant, merge_grants, role_code
from cloud.permissions.models import DoorPermissions


@dataclass
class RecomputeReport:
    recomputed: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)


def rules_reaching_door(door_id: int) -> Any:
    """Conditions selecting the enabled rules that reach the door directly or through one of its zones."""
    return _rules_reaching(door_id)


def _rules_reaching(door_id: int) -> Any:
    zones_of_door = select(ZoneDoor.zone_id).where(ZoneDoor.door_id == door_id)
    return (
        col(AccessRule.enabled).is_(True),
        or_(AccessRule.door_id == door_id, col(AccessRule.zone_id).in_(zones_of_door)),
    )


# Grant rows carry ids (and the user's own validity) only; the few rules reaching a door are loaded once
# (their windows are JSON, and decoding them once per credential would dominate the cost of a busy door).
_GRANT_COLUMNS = (
    col(AccessRule.id),
    col(Credential.id),
    col(Credential.cred_hash),
    col(Credential.user_id),
    col(User.valid_from),
    col(User.valid_until),
)


def intersect_validity(first: tuple[int, int], second: tuple[int, int]) -> tuple[int, int] | None:
    """The overlap of two [valid_from, valid_until) periods (0 = unbounded on that side); None if empty."""
    valid_from = max(first[0], second[0])
    untils = [until for until in (first[1], second[1]) if until]
    valid_until = min(untils) if untils else 0
    if valid_until and valid_until <= valid_from:
        return None
    return valid_from, valid_until


def door_grants(*, session: Session, door_id: int) -> list[Grant]:
    """Every (credential, rule) pair that lets an active user's credential open this door."""
    rules = {
        rule.id: rule for rule in session.exec(select(AccessRule).where(*_rules_reaching(door_id))).all()
    }
    if not rules:
        return []
    # Joining from the handful of rule ids (not from the door/zone condition) lets both databases start
    # from the rules and walk the indexes outwards, whatever their statistics say.
    rule_ids = list(rules)
    direct = session.execute(
        sa.select(*_GRANT_COLUMNS)
        .join(Credential, col(Credential.user_id) == col(AccessRule.user_id))
        .join(User, col(User.id) == col(Credential.user_id))
        .where(col(AccessRule.id).in_(rule_ids), col(User.status) == "active")
    ).all()
    via_groups = session.execute(
        sa.select(*_GRANT_COLUMNS)
        .join(GroupMember, col(GroupMember.group_id) == col(AccessRule.group_id))
        .join(Credential, col(Credential.user_id) == col(GroupMember.user_id))
        .join(User, col(User.id) == col(Credential.user_id))
        .where(col(AccessRule.id).in_(rule_ids), col(User.status) == "active")
    ).all()
    grants = []
    for row in (*direct, *via_groups):
        rule_id, credential_id, cred_hash, user_id, user_from, user_until = row
        rule = rules[rule_id]
        # A person's own validity (a membership's term) bounds every grant they get.
        validity = intersect_validity((rule.valid_from, rule.valid_until), (user_from, user_until))
        if validity is None:
            continue
        windows = tuple((days, start, end) for days, start, end in rule.windows)
        grants.append(
            Grant(
                cred_hash,
                credential_id,
                user_id,
                rule_id,
                rule.name,
                rule.group_id,
                role_code(rule.role),
                *validity,
                windows,
            )
        )
    return grants


def compute_door_entries(*, session: Session, door_id: int) -> tuple[list[list[Any]], int]:
    """The wire entries for one door, sorted by hash, and the number of truncated credentials."""
    return merge_grants(door_grants(session=session, door_id=door_id))


def entries_digest(entries: list[list[Any]]) -> str:
    return hashlib.sha256(json.dumps(entries, separators=(",", ":")).encode()).hexdigest()


def recompute_doors(*, session: Session, door_ids: Iterable[int]) -> RecomputeReport:
    """Recompute the given doors; bump a door's version only if its list changed. Flushes, no commit."""
    report = RecomputeReport()
    stepped: dict[int, int] = {}
    for door_id in sorted(set(door_ids)):
        entries, truncated = compute_door_entries(session=session, door_id=door_id)
        digest = entries_digest(entries)
        report.recomputed.append(door_id)
        # Row lock (PostgreSQL): two concurrent changes to one door cannot both claim the same version.
        # Only version and digest are read: the stored entries are not needed to detect a change.
        current = session.execute(
            sa.select(col(DoorPermissions.version), col(DoorPermissions.digest))
            .where(col(DoorPermissions.door_id) == door_id)
            .with_for_update()
        ).first()
        if current is not None and current.digest == digest:
            continue
        values: dict[str, Any] = {
            "digest": digest,
            "entries": entries,
            "truncated": truncated,
            "updated_at": now_ts(),
        }
        if current is None:
            session.add(DoorPermissions(door_id=door_id, version=1, **values))
        else:
            session.execute(
                sa.update(DoorPermissions)
                .where(col(DoorPermissions.door_id) == door_id)
                .values(version=current.version + 1, **values)
            )
            stepped[door_id] = current.version + 1
        report.changed.append(door_id)
    session.flush()
    # The version steps and their permission_change webhooks commit together.
    permission_versions_stepped(session=session, versions=stepped)
    return report


# --- which doors a change can affect ------------------------------------------------------------


def doors_of_zone(*, session: Session, zone_id: int) -> set[int]:
    return set(session.exec(select(ZoneDoor.door_id).where(ZoneDoor.zone_id == zone_id)).all())


def doors_of_rules(*, session: Session, rules: Iterable[AccessRule]) -> set[int]:
    doors: set[int] = set()
    zone_ids: set[int] = set()
    for rule in rules:
        if rule.door_id is not None:
            doors.add(rule.door_id)
        if rule.zone_id is not None:
            zone_ids.add(rule.zone_id)
    if zone_ids:
        doors.update(session.exec(select(ZoneDoor.door_id).where(col(ZoneDoor.zone_id).in_(zone_ids))).all())
    return doors


def doors_of_user(*, session: Session, user_id: int) -> set[int]:
    """Doors reachable by the user's own rules and the rules of the user's groups (enabled or not)."""
    groups = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    rules = session.exec(
        select(AccessRule).where(or_(AccessRule.user_id == user_id, col(AccessRule.group_id).in_(groups)))
    ).all()
    return doors_of_rules(session=session, rules=rules)


def doors_of_group(*, session: Session, group_id: int) -> set[int]:
    rules = session.exec(select(AccessRule).where(AccessRule.group_id == group_id)).all()
    return doors_of_rules(session=session, rules=rules)


def door_permissions(*, session: Session, door_id: int) -> DoorPermissions:
    state = session.get(DoorPermissions, door_id)
    if state is None:  # a door always gets its row when created; this is only a safety net
        recompute_doors(session=session, door_ids=[door_id])
        state = session.get(DoorPermissions, door_id)
        assert state is not None
    return state
