"""PUT /integrations/members/{external_id}: make one member exactly the state the other system sends.

Idempotent: the desired state is compared with the stored one first, and a call that would change nothing
writes nothing (no audit entry, no recompute, no version step). A call that changes something writes it,
one audit entry (action "upsert", entity "user", before/after the member's view: card hints, never card
identifiers) and recomputes the doors the member reached before or reaches now, so a suspension, a lapsed
validity, a left group or a removed card closes the doors in the same transaction (the sync then delivers).
"""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from cloud.audit.service import record_change
from cloud.auth.operator import Operator
from cloud.crud.credentials import PreparedCredential, credential_public, prepare_credential
from cloud.crud.groups import groups_of_user
from cloud.crud.rules import check_validity
from cloud.errors import Conflict, Invalid
from cloud.integrations.members.models import MemberPublic, MemberState
from cloud.models.credential import Credential
from cloud.models.site import Site
from cloud.models.user import Group, GroupMember, User, UserPublic
from cloud.permissions.service import doors_of_user, recompute_doors
from shared_schema.credentials import KIND_PHONE

# The user fields a member's state sets; those that change who may enter when.
USER_FIELDS = ("name", "email", "status", "valid_from", "valid_until")
ACCESS_FIELDS = ("status", "valid_from", "valid_until")
# A card the member should hold: kind, label, and its stored form.
WantedCard = tuple[str, str, PreparedCredential]


@dataclass
class _Plan:
    """What the call changes: user fields, groups to join/leave, cards to add/remove/relabel."""

    fields: dict[str, Any] = field(default_factory=dict)
    join: set[int] = field(default_factory=set)
    leave: set[int] = field(default_factory=set)
    add: list[WantedCard] = field(default_factory=list)
    remove: list[Credential] = field(default_factory=list)
    relabel: list[tuple[Credential, str]] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.fields or self.join or self.leave or self.add or self.remove or self.relabel)

    def touches_access(self) -> bool:
        access = set(self.fields) & set(ACCESS_FIELDS)
        return bool(access or self.join or self.leave or self.add or self.remove)


def _group_ids(*, session: Session, site_id: int, names: list[str]) -> set[int]:
    ids = set()
    for index, name in enumerate(names):
        group_id = session.exec(select(Group.id).where(Group.site_id == site_id, Group.name == name)).first()
        if group_id is None:
            raise Invalid(f"groups.{index}", f"no group {name!r} in the site (operators create groups)")
        ids.add(group_id)
    return ids


def _wanted_cards(*, site: Site, state: MemberState) -> dict[str, WantedCard]:
    """cred_hash -> (kind, label, prepared card) of the listed cards (422 on the card's field)."""
    wanted: dict[str, WantedCard] = {}
    for index, card in enumerate(state.cards or []):
        try:
            prepared = prepare_credential(site=site, kind=card.kind, identifier=card.identifier)
        except Invalid as error:
            raise Invalid(f"cards.{index}.identifier", error.message) from None
        if prepared.cred_hash in wanted:
            raise Invalid(f"cards.{index}.identifier", "the same card is listed twice")
        wanted[prepared.cred_hash] = (card.kind, card.label, prepared)
    return wanted


def _plan_cards(
    *, session: Session, site_id: int, user: User | None, wanted: dict[str, WantedCard]
) -> tuple[list[WantedCard], list[Credential], list[tuple[Credential, str]]]:
    """Cards to add, to remove and to relabel; 409 if a listed card is someone else's."""
    held = _cards(session=session, user=user)
    by_hash = {credential.cred_hash: credential for credential in held}
    add = [card for cred_hash, card in wanted.items() if cred_hash not in by_hash]
    remove = [credential for credential in held if credential.cred_hash not in wanted]
    relabel = [
        (by_hash[cred_hash], label)
        for cred_hash, (_, label, _) in wanted.items()
        if cred_hash in by_hash and by_hash[cred_hash].label != label
    ]
    for index, cred_hash in enumerate(wanted):
        if cred_hash in by_hash:
            continue
        owner = session.exec(
            select(Credential.id).where(Credential.site_id == site_id, Credential.cred_hash == cred_hash)
        ).first()
        if owner is not None:
            raise Conflict(f"card {index} is already enrolled for another person (credential {owner})")
    return add, remove, relabel


def _cards(*, session: Session, user: User | None) -> list[Credential]:
    """The member's cards (phones are not the other system's to manage)."""
    if user is None:
        return []
    query = select(Credential).where(Credential.user_id == user.id, Credential.kind != KIND_PHONE)
    return list(session.exec(query.order_by(col(Credential.id))).all())


def _plan(*, session: Session, site: Site, user: User | None, state: MemberState) -> _Plan:
    assert site.id is not None
    check_validity(state.valid_from, state.valid_until)
    plan = _Plan()
    desired = state.model_dump(include=set(USER_FIELDS))
    plan.fields = {key: new for key, new in desired.items() if user is None or getattr(user, key) != new}
    if state.groups is not None:
        wanted = _group_ids(session=session, site_id=site.id, names=state.groups)
        current = _group_ids_of(session=session, user=user)
        plan.join, plan.leave = wanted - current, current - wanted
    if state.cards is not None:
        cards = _wanted_cards(site=site, state=state)
        changes = _plan_cards(session=session, site_id=site.id, user=user, wanted=cards)
        plan.add, plan.remove, plan.relabel = changes
    return plan


def _group_ids_of(*, session: Session, user: User | None) -> set[int]:
    if user is None or user.id is None:
        return set()
    return {group.id for group in groups_of_user(session=session, user_id=user.id) if group.id is not None}


def _apply(*, session: Session, site_id: int, external_id: str, user: User | None, plan: _Plan) -> User:
    if user is None:
        user = User(site_id=site_id, external_id=external_id, **plan.fields)
    else:
        user.sqlmodel_update(plan.fields)
    session.add(user)
    session.flush()
    assert user.id is not None
    for group_id in plan.join:
        session.add(GroupMember(group_id=group_id, user_id=user.id))
    for group_id in plan.leave:
        session.delete(session.get(GroupMember, (group_id, user.id)))
    for credential in plan.remove:
        session.delete(credential)
    for credential, label in plan.relabel:
        credential.label = label
        session.add(credential)
    for kind, label, prepared in plan.add:
        session.add(prepared.stored(site_id=site_id, user_id=user.id, kind=kind, label=label))
    session.flush()
    return user


def _view(*, session: Session, user: User) -> dict[str, Any]:
    """The member as the audit trail records it (card hints and labels, no identifiers)."""
    assert user.id is not None
    return {
        **UserPublic.model_validate(user).model_dump(mode="json"),
        "groups": sorted(group.name for group in groups_of_user(session=session, user_id=user.id)),
        "cards": [[c.identifier_hint, c.label] for c in _cards(session=session, user=user)],
    }


def _public(*, session: Session, user: User, created: bool, changed: bool) -> MemberPublic:
    assert user.id is not None and user.external_id is not None
    return MemberPublic(
        external_id=user.external_id,
        created=created,
        changed=changed,
        user=UserPublic.model_validate(user),
        groups=sorted(group.name for group in groups_of_user(session=session, user_id=user.id)),
        cards=[credential_public(c) for c in _cards(session=session, user=user)],
    )


def upsert_member(
    *, session: Session, operator: Operator, site: Site, external_id: str, state: MemberState
) -> MemberPublic:
    """Create or bring up to date the member `external_id` of the site (flushes, never commits)."""
    assert site.id is not None
    user = session.exec(select(User).where(User.site_id == site.id, User.external_id == external_id)).first()
    plan = _plan(session=session, site=site, user=user, state=state)
    if user is not None and plan.empty():
        return _public(session=session, user=user, created=False, changed=False)
    before = _view(session=session, user=user) if user is not None else None
    reached = doors_of_user(session=session, user_id=user.id) if user is not None and user.id else set()
    created = user is None
    user = _apply(session=session, site_id=site.id, external_id=external_id, user=user, plan=plan)
    assert user.id is not None
    if plan.touches_access():
        recompute_doors(session=session, door_ids=reached | doors_of_user(session=session, user_id=user.id))
    record_change(
        session=session,
        operator=operator,
        action="upsert",
        entity="user",
        entity_id=user.id,
        site_id=site.id,
        before=before,
        after=_view(session=session, user=user),
    )
    return _public(session=session, user=user, created=created, changed=True)
