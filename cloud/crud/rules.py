"""Access rules. Any change recomputes the rule's door, or its zone's doors, before and after."""

from sqlmodel import Session

from cloud.audit.service import record_object_change
from cloud.auth.operator import Operator
from cloud.crud.scope import get_in_site, snapshot, target_site
from cloud.errors import Invalid
from cloud.models.door import Door
from cloud.models.rule import AccessRule, AccessRuleCreate, AccessRulePublic, AccessRuleUpdate
from cloud.models.user import Group, User
from cloud.models.zone import Zone
from cloud.permissions.service import RecomputeReport, doors_of_rules, recompute_doors


def check_validity(valid_from: int, valid_until: int) -> None:
    """A validity period (a rule's, a person's) must not be empty: 422 on valid_until."""
    if valid_from and valid_until and valid_until <= valid_from:
        raise Invalid("valid_until", "valid_until must be after valid_from (0 = unbounded)")


def _check_shape(rule_in: AccessRuleCreate) -> None:
    """Exactly one subject and one target; a validity period that is not empty. 422 on the field."""
    if (rule_in.user_id is None) == (rule_in.group_id is None):
        raise Invalid("user_id", "give exactly one of user_id, group_id")
    if (rule_in.door_id is None) == (rule_in.zone_id is None):
        raise Invalid("door_id", "give exactly one of door_id, zone_id")
    check_validity(rule_in.valid_from, rule_in.valid_until)


def _check_references(*, session: Session, site_id: int, rule_in: AccessRuleCreate) -> None:
    for field, model, value in (
        ("user_id", User, rule_in.user_id),
        ("group_id", Group, rule_in.group_id),
        ("door_id", Door, rule_in.door_id),
        ("zone_id", Zone, rule_in.zone_id),
    ):
        if value is not None:
            get_in_site(
                session=session, model=model, obj_id=value, site_id=site_id, field=field, entity=field[:-3]
            )


def create_rule(*, session: Session, operator: Operator, rule_in: AccessRuleCreate) -> AccessRule:
    _check_shape(rule_in)
    site = target_site(session=session, operator=operator, requested=rule_in.site_id)
    assert site.id is not None
    _check_references(session=session, site_id=site.id, rule_in=rule_in)
    rule = AccessRule.model_validate(rule_in, update={"site_id": site.id})
    session.add(rule)
    session.flush()
    recompute_doors(session=session, door_ids=doors_of_rules(session=session, rules=[rule]))
    record_object_change(
        session=session,
        operator=operator,
        action="create",
        entity="access_rule",
        obj=rule,
        after=snapshot(AccessRulePublic, rule),
    )
    return rule


def update_rule(
    *, session: Session, operator: Operator, rule: AccessRule, rule_in: AccessRuleUpdate
) -> RecomputeReport:
    """Apply the change; returns which doors were recomputed and which of them changed."""
    before = snapshot(AccessRulePublic, rule)
    changes = rule_in.model_dump(exclude_unset=True, exclude_none=True)
    check_validity(changes.get("valid_from", rule.valid_from), changes.get("valid_until", rule.valid_until))
    rule.sqlmodel_update(changes)
    session.add(rule)
    session.flush()
    # Subject and target are fixed, so the doors before and after are the same set.
    report = recompute_doors(session=session, door_ids=doors_of_rules(session=session, rules=[rule]))
    record_object_change(
        session=session,
        operator=operator,
        action="update",
        entity="access_rule",
        obj=rule,
        before=before,
        after=snapshot(AccessRulePublic, rule),
    )
    return report


def delete_rule(*, session: Session, operator: Operator, rule: AccessRule) -> None:
    before = snapshot(AccessRulePublic, rule)
    affected = doors_of_rules(session=session, rules=[rule])
    session.delete(rule)
    session.flush()
    recompute_doors(session=session, door_ids=affected)
    record_object_change(
        session=session,
        operator=operator,
        action="delete",
        entity="access_rule",
        obj=rule,
        before=before,
    )
