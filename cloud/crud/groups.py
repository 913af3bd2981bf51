"""Groups and their members. A membership change recomputes the doors of that group's rules."""

from sqlmodel import Session, col, func, select

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.crud.membership import GROUP_USERS, check_members, replace_members, set_member
from cloud.crud.scope import delete_with_dependents, page, snapshot, taken_in_site, target_site
from cloud.errors import Conflict
from cloud.models.rule import AccessRule
from cloud.models.user import Group, GroupCreate, GroupMember, GroupPublic, GroupUpdate, User
from cloud.permissions.service import doors_of_group, recompute_doors


def group_public(*, session: Session, group: Group) -> GroupPublic:
    count = session.exec(select(func.count()).where(GroupMember.group_id == group.id)).one()
    return GroupPublic.model_validate(group, update={"member_count": count})


def _check_name(*, session: Session, site_id: int, name: str, group_id: int | None) -> None:
    other = taken_in_site(session=session, column=Group.name, value=name, site_id=site_id, own_id=group_id)
    if other is not None:
        raise Conflict(f"group name {name!r} is already used by group {other}")


def create_group(*, session: Session, operator: Operator, group_in: GroupCreate) -> Group:
    site = target_site(session=session, operator=operator, requested=group_in.site_id)
    assert site.id is not None
    _check_name(session=session, site_id=site.id, name=group_in.name, group_id=None)
    user_ids = check_members(
        session=session, link=GROUP_USERS, site_id=site.id, ids=group_in.user_ids, field="user_ids"
    )
    group = Group(name=group_in.name, description=group_in.description, site_id=site.id)
    session.add(group)
    session.flush()
    assert group.id is not None
    # A new group has no rules yet: nothing to recompute.
    replace_members(session=session, link=GROUP_USERS, parent_id=group.id, ids=user_ids)
    record_object_change(
        session=session,
        operator=operator,
        action="create",
        entity="group",
        obj=group,
        after=snapshot(GroupPublic, group_public(session=session, group=group)),
    )
    return group


def update_group(*, session: Session, operator: Operator, group: Group, group_in: GroupUpdate) -> Group:
    before = snapshot(GroupPublic, group_public(session=session, group=group))
    changes = group_in.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes:
        _check_name(session=session, site_id=group.site_id, name=changes["name"], group_id=group.id)
    group.sqlmodel_update(changes)
    session.add(group)
    session.flush()
    record_object_change(
        session=session,
        operator=operator,
        action="update",
        entity="group",
        obj=group,
        before=before,
        after=snapshot(GroupPublic, group_public(session=session, group=group)),
    )
    return group


def delete_group(*, session: Session, operator: Operator, group: Group) -> None:
    assert group.id is not None
    before = snapshot(GroupPublic, group_public(session=session, group=group))
    affected = doors_of_group(session=session, group_id=group.id)
    delete_with_dependents(session=session, obj=group, dependents=(AccessRule.group_id, GroupMember.group_id))
    recompute_doors(session=session, door_ids=affected)
    record_object_change(
        session=session,
        operator=operator,
        action="delete",
        entity="group",
        obj=group,
        before=before,
    )


def set_membership(*, session: Session, operator: Operator, group: Group, user_id: int, member: bool) -> None:
    """Add (member=True) or remove a user; idempotent; recomputes the group's doors if it changed."""
    assert group.id is not None
    if set_member(
        session=session,
        operator=operator,
        link=GROUP_USERS,
        parent=group,
        entity="group",
        member_id=user_id,
        member=member,
    ):
        recompute_doors(session=session, door_ids=doors_of_group(session=session, group_id=group.id))


def member_ids(*, session: Session, group: Group, user_ids: list[int | None]) -> set[int]:
    """Which of these users are members of the group."""
    wanted = [user_id for user_id in user_ids if user_id is not None]
    query = select(GroupMember.user_id).where(
        GroupMember.group_id == group.id, col(GroupMember.user_id).in_(wanted)
    )
    return set(session.exec(query).all())


def groups_of_user(*, session: Session, user_id: int) -> list[Group]:
    query = (
        select(Group)
        .join(GroupMember, col(GroupMember.group_id) == col(Group.id))
        .where(GroupMember.user_id == user_id)
    )
    return list(session.exec(query.order_by(col(Group.name), col(Group.id))).all())


def list_members(*, session: Session, group: Group, offset: int, limit: int) -> tuple[list[User], int]:
    query = (
        select(User)
        .join(GroupMember, col(GroupMember.user_id) == col(User.id))
        .where(GroupMember.group_id == group.id)
    )
    return page(session=session, query=query, order_by=col(User.id), offset=offset, limit=limit)
