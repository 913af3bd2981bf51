"""What a user's rules grant on the doors a mobile key is for: the limits its tickets may carry.

A key's own validity and windows are an extra restriction at the lock, on top of the door's table entry (the
exact grant, which the permission sync keeps current). So a key never needs to be wider than the rules, and
is cut down to them here: its validity to the span the rules cover (their hull), its windows to the union of
theirs (none if any rule has none).
"""

from dataclasses import dataclass

from sqlmodel import Session, col, or_, select

from cloud.errors import Invalid
from cloud.models.rule import AccessRule
from cloud.models.user import GroupMember
from cloud.models.zone import ZoneDoor
from shared_schema.schedule import MAX_WINDOWS


@dataclass(frozen=True)
class KeyLimits:
    valid_from: int
    valid_until: int
    windows: list[list[int]]


def user_rules_for_door(*, session: Session, user_id: int, door_id: int) -> list[AccessRule]:
    """The enabled rules that let the user (directly or through a group) open the door (or its zones)."""
    groups = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    zones = select(ZoneDoor.zone_id).where(ZoneDoor.door_id == door_id)
    query = select(AccessRule).where(
        col(AccessRule.enabled).is_(True),
        or_(AccessRule.user_id == user_id, col(AccessRule.group_id).in_(groups)),
        or_(AccessRule.door_id == door_id, col(AccessRule.zone_id).in_(zones)),
    )
    return list(session.exec(query.order_by(col(AccessRule.id))).all())


def _merged_windows(rules: list[AccessRule]) -> list[list[int]]:
    if any(not rule.windows for rule in rules):
        return []
    days_by_span: dict[tuple[int, int], int] = {}
    for rule in rules:
        for days, start, end in rule.windows:
            days_by_span[(start, end)] = days_by_span.get((start, end), 0) | days
    merged = [[days, start, end] for (start, end), days in sorted(days_by_span.items())]
    if len(merged) > MAX_WINDOWS:
        raise Invalid(
            "door_id", f"the user's rules have more than {MAX_WINDOWS} distinct windows: issue a key per door"
        )
    return merged


def clip(rules: list[AccessRule], valid_from: int, valid_until: int) -> KeyLimits:
    """The requested period [valid_from, valid_until) cut to what the rules cover, with their windows."""
    froms = [rule.valid_from for rule in rules]
    untils = [rule.valid_until for rule in rules]
    start = max(valid_from, 0 if 0 in froms else min(froms))
    end = valid_until if 0 in untils else min(valid_until, max(untils))
    if end <= start:
        raise Invalid("valid_until", "the user's rules grant nothing in the requested period")
    return KeyLimits(start, end, _merged_windows(rules))
