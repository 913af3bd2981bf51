"""Membership links shared by groups (users in a group) and zones (doors in a zone).

One set of helpers for both: check the members a body names (422 on the field), replace a whole
membership, and add or remove one member named in the path (404 if it is not in the parent's site,
idempotent, audited only when something changed). Recomputing permissions stays with the caller: which
doors a change reaches differs (a group: the doors of its rules; a zone: the doors that joined or left).
"""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.crud.scope import get_in_site
from cloud.errors import NotFound
from cloud.models.door import Door
from cloud.models.user import GroupMember, User
from cloud.models.zone import ZoneDoor


@dataclass(frozen=True)
class Link:
    """A link table whose primary key is (parent id, member id)."""

    table: type[SQLModel]
    parent_column: str
    member_column: str
    member_model: type[SQLModel]
    member_entity: str


GROUP_USERS = Link(GroupMember, "group_id", "user_id", User, "user")
ZONE_DOORS = Link(ZoneDoor, "zone_id", "door_id", Door, "door")


def members(*, session: Session, link: Link, parent_id: int) -> set[int]:
    member = col(getattr(link.table, link.member_column))
    parent = col(getattr(link.table, link.parent_column))
    return set(session.exec(select(member).where(parent == parent_id)).all())


def check_members(*, session: Session, link: Link, site_id: int, ids: list[int], field: str) -> set[int]:
    """The ids a request body lists; each must exist in the site (422 on `field.index` otherwise)."""
    for index, member_id in enumerate(ids):
        get_in_site(
            session=session,
            model=link.member_model,
            obj_id=member_id,
            site_id=site_id,
            field=f"{field}.{index}",
            entity=link.member_entity,
        )
    return set(ids)


def replace_members(*, session: Session, link: Link, parent_id: int, ids: set[int]) -> set[int]:
    """Make the membership exactly `ids`; returns the members that joined or left. Flushes."""
    current = members(session=session, link=link, parent_id=parent_id)
    for member_id in current - ids:
        session.delete(session.get(link.table, (parent_id, member_id)))
    for member_id in ids - current:
        session.add(link.table(**{link.parent_column: parent_id, link.member_column: member_id}))
    session.flush()
    return current ^ ids


def set_member(
    *,
    session: Session,
    operator: Operator,
    link: Link,
    parent: Any,
    entity: str,
    member_id: int,
    member: bool,
) -> bool:
    """Add (member=True) or remove one member named in the path; True if the membership changed.

    A member that does not exist or belongs to another site is 404, like any id in a path. Adding a
    member twice or removing a non-member changes nothing and writes nothing (no audit entry).
    """
    found = session.get(link.member_model, member_id)
    if found is None or found.site_id != parent.site_id:  # type: ignore[attr-defined]
        raise NotFound(link.member_entity, member_id)
    current = session.get(link.table, (parent.id, member_id))
    if (current is not None) == member:
        return False
    if member:
        session.add(link.table(**{link.parent_column: parent.id, link.member_column: member_id}))
    else:
        session.delete(current)
    session.flush()
    change = {link.member_column: member_id}
    record_object_change(
        session=session,
        operator=operator,
        action="add_member" if member else "remove_member",
        entity=entity,
        obj=parent,
        before=None if member else change,
        after=change if member else None,
    )
    return True
