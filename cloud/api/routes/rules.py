"""/access-rules: who (user or group) may open what (door or zone), when, and in which role."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from cloud.api.deps import CurrentOperator, ObjectId, PageDep, SessionDep, SiteFilter, WriterOperator
from cloud.api.listing import list_visible
from cloud.crud import rules as service
from cloud.crud.scope import get_visible
from cloud.models.rule import (
    AccessRule,
    AccessRuleCreate,
    AccessRulePublic,
    AccessRulesPublic,
    AccessRuleUpdate,
)

router = APIRouter(prefix="/access-rules", tags=["access rules"])

IdFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@router.get("", response_model=AccessRulesPublic)
def list_rules(
    session: SessionDep,
    operator: CurrentOperator,
    paging: PageDep,
    site_id: SiteFilter = None,
    user_id: IdFilter = None,
    group_id: IdFilter = None,
    door_id: IdFilter = None,
    zone_id: IdFilter = None,
) -> AccessRulesPublic:
    wanted = (
        (AccessRule.user_id, user_id),
        (AccessRule.group_id, group_id),
        (AccessRule.door_id, door_id),
        (AccessRule.zone_id, zone_id),
    )
    filters = tuple(column == value for column, value in wanted if value is not None)
    rows, count = list_visible(
        session=session, model=AccessRule, operator=operator, paging=paging, site_id=site_id, filters=filters
    )
    return AccessRulesPublic(data=[AccessRulePublic.model_validate(row) for row in rows], count=count)


@router.post("", response_model=AccessRulePublic, status_code=status.HTTP_201_CREATED)
def create_rule(session: SessionDep, operator: WriterOperator, rule_in: AccessRuleCreate) -> AccessRule:
    rule = service.create_rule(session=session, operator=operator, rule_in=rule_in)
    session.commit()
    return rule


@router.get("/{rule_id}", response_model=AccessRulePublic)
def read_rule(session: SessionDep, operator: CurrentOperator, rule_id: ObjectId) -> AccessRule:
    return get_visible(
        session=session, model=AccessRule, obj_id=rule_id, operator=operator, entity="access rule"
    )


@router.patch("/{rule_id}", response_model=AccessRulePublic)
def update_rule(
    session: SessionDep, operator: WriterOperator, rule_id: ObjectId, rule_in: AccessRuleUpdate
) -> AccessRule:
    rule = get_visible(
        session=session, model=AccessRule, obj_id=rule_id, operator=operator, entity="access rule"
    )
    service.update_rule(session=session, operator=operator, rule=rule, rule_in=rule_in)
    session.commit()
    return rule


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(session: SessionDep, operator: WriterOperator, rule_id: ObjectId) -> None:
    rule = get_visible(
        session=session, model=AccessRule, obj_id=rule_id, operator=operator, entity="access rule"
    )
    service.delete_rule(session=session, operator=operator, rule=rule)
    session.commit()
