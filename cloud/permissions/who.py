"""Who can open a door at instant T: active users whose rule and stored entry both allow it then."""

from sqlmodel import Session, col, or_, select

from cloud.models.door import Door
from cloud.models.rule import AccessRule
from cloud.models.site import Site
from cloud.models.user import GroupMember, User
from cloud.permissions.merge import Grant
from cloud.permissions.models import EntrantPublic, GrantingRule, WhoCanEnterPublic
from cloud.permissions.service import door_grants, door_permissions, rules_reaching_door
from cloud.timezones import offset_table
from shared_schema.messages import ROLE_ADMIN
from shared_schema.schedule import grant_allows, local_seconds, windows_allow, within_validity

_TABLE_LEAD_S = 2 * 86400  # the offset table starts a little before T; one month covers T


def _allowed_grants(*, session: Session, door: Door, at: int, offsets: list[list[int]]) -> list[Grant]:
    assert door.id is not None
    entries = {entry[0]: entry for entry in door_permissions(session=session, door_id=door.id).entries}
    allowed = []
    for grant in door_grants(session=session, door_id=door.id):
        if door.mode == "lockdown" and grant.role != ROLE_ADMIN:
            continue
        if not grant_allows(grant.valid_from, grant.valid_until, list(grant.windows), at, offsets):
            continue
        # The lock decides on the merged entry; a grant cut by MAX_WINDOWS truncation does not open.
        entry = entries.get(grant.cred_hash)
        if entry is None or not grant_allows(entry[2], entry[3], entry[4], at, offsets):
            continue
        allowed.append(grant)
    return allowed


def who_can_enter(*, session: Session, door: Door, site: Site, at: int) -> WhoCanEnterPublic:
    """Users (with their granting rules and credentials), sorted by user id.

    Lockdown: admin grants only. Passage: passage_open says the door is held unlocked at T.
    """
    assert door.id is not None
    offsets = offset_table(site.timezone, at - _TABLE_LEAD_S, 1)
    grants = _allowed_grants(session=session, door=door, at=at, offsets=offsets)
    by_user: dict[int, list[Grant]] = {}
    for grant in grants:
        by_user.setdefault(grant.user_id, []).append(grant)
    names = dict(session.exec(select(User.id, User.name).where(col(User.id).in_(list(by_user)))).all())
    users = []
    for user_id in sorted(by_user):
        user_grants = by_user[user_id]
        rules = {
            (g.rule_id, g.via_group_id): GrantingRule(
                rule_id=g.rule_id,
                name=g.rule_name,
                role="admin" if g.role == ROLE_ADMIN else "normal",
                via_group_id=g.via_group_id,
            )
            for g in user_grants
        }
        users.append(
            EntrantPublic(
                user_id=user_id,
                name=names.get(user_id, ""),
                credential_ids=sorted({g.credential_id for g in user_grants}),
                rules=[rules[key] for key in sorted(rules, key=lambda k: (k[0], k[1] or 0))],
            )
        )
    passage_open = door.mode == "passage" and windows_allow(door.passage_windows, local_seconds(offsets, at))
    return WhoCanEnterPublic(
        door_id=door.id,
        at=at,
        mode=door.mode,
        passage_open=passage_open,
        users=users,
        count=len(users),
    )


def rules_letting_in(*, session: Session, door: Door, site: Site, user: User, at: int) -> list[GrantingRule]:
    """The rules that let this person through this door at `at`, judged on the rules themselves (not on a
    credential: an external authenticator identified the person). Empty: the person may not enter then.

    The same conditions as who-can-enter: an active person within their own validity; an enabled rule
    reaching the door directly or through a zone, naming the person or one of their groups, whose validity
    and weekly windows (site-local time) allow `at`; in lockdown, admin rules only."""
    if user.status != "active" or not within_validity(user.valid_from, user.valid_until, at):
        return []
    assert door.id is not None
    groups = select(GroupMember.group_id).where(GroupMember.user_id == user.id)
    rules = session.exec(
        select(AccessRule)
        .where(*rules_reaching_door(door.id))
        .where(or_(AccessRule.user_id == user.id, col(AccessRule.group_id).in_(groups)))
        .order_by(col(AccessRule.id))
    ).all()
    offsets = offset_table(site.timezone, at - _TABLE_LEAD_S, 1)
    return [
        GrantingRule(rule_id=rule.id, name=rule.name, role=rule.role, via_group_id=rule.group_id)
        for rule in rules
        if rule.id is not None
        and (door.mode != "lockdown" or rule.role == "admin")
        and grant_allows(rule.valid_from, rule.valid_until, rule.windows, at, offsets)
    ]
