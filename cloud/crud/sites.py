"""Sites: create (with a fresh site key), update, delete when empty."""

import secrets

from sqlmodel import Session, select

from cloud.audit.service import record_change
from cloud.auth.operator import Operator
from cloud.crud.scope import delete_with_dependents, snapshot
from cloud.errors import Conflict, Forbidden
from cloud.models.api_key import ApiKey
from cloud.models.door import Door
from cloud.models.rule import AccessRule
from cloud.models.site import Site, SiteCreate, SitePublic, SiteUpdate
from cloud.models.user import Group, User
from cloud.models.zone import Zone
from shared_schema.credentials import SITE_KEY_MIN_BYTES

SITE_KEY_BYTES = max(32, SITE_KEY_MIN_BYTES)


def create_site(*, session: Session, operator: Operator, site_in: SiteCreate) -> tuple[Site, str]:
    """A new site and its key (hex), to be shown once. Only global admins create sites."""
    if operator.site_id is not None or not operator.is_admin:
        raise Forbidden("only an admin key that is not bound to a site can create sites")
    site_key = secrets.token_hex(SITE_KEY_BYTES)
    site = Site.model_validate(site_in, update={"site_key": site_key})
    session.add(site)
    session.flush()
    record_change(
        session=session,
        operator=operator,
        action="create",
        entity="site",
        entity_id=site.id,
        site_id=site.id,
        after=snapshot(SitePublic, site),
    )
    return site, site_key


def update_site(*, session: Session, operator: Operator, site: Site, site_in: SiteUpdate) -> Site:
    if not operator.is_admin:
        raise Forbidden("only admins can change a site")
    before = snapshot(SitePublic, site)
    site.sqlmodel_update(site_in.model_dump(exclude_unset=True, exclude_none=True))
    session.add(site)
    session.flush()
    record_change(
        session=session,
        operator=operator,
        action="update",
        entity="site",
        entity_id=site.id,
        site_id=site.id,
        before=before,
        after=snapshot(SitePublic, site),
    )
    return site


def delete_site(*, session: Session, operator: Operator, site: Site) -> None:
    if operator.site_id is not None or not operator.is_admin:
        raise Forbidden("only an admin key that is not bound to a site can delete sites")
    for model in (Door, User):
        if session.exec(select(model.id).where(model.site_id == site.id)).first() is not None:
            raise Conflict(f"site {site.id} still has {model.__name__.lower()}s: delete them first")
    record_change(
        session=session,
        operator=operator,
        action="delete",
        entity="site",
        entity_id=site.id,
        site_id=site.id,
        before=snapshot(SitePublic, site),
    )
    # Without doors or users, what is left (rules, zones, groups, keys) reaches nothing: remove it.
    delete_with_dependents(
        session=session,
        obj=site,
        dependents=(AccessRule.site_id, Zone.site_id, Group.site_id, ApiKey.site_id),
    )
