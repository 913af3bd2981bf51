"""Sites: create (with a fresh site key, stored sealed), update, delete when empty."""

import secrets

from sqlmodel import Session, select

from cloud.audit.service import record_change
from cloud.auth.operator import Operator
from cloud.crud.scope import delete_with_dependents, snapshot
from cloud.errors import Conflict, Forbidden
from cloud.integrations.webhooks.service import delete_site_endpoints
from cloud.models.api_key import ApiKey
from cloud.models.door import Door
from cloud.models.rule import AccessRule
from cloud.models.site import Site, SiteCreate, SitePublic, SiteUpdate
from cloud.models.user import Group, User
from cloud.models.zone import Zone
from cloud.vault.master import active_sealer
from shared_schema.credentials import SITE_KEY_MIN_BYTES

SITE_KEY_BYTES = max(32, SITE_KEY_MIN_BYTES)


def seal_site_key(site: Site, key: bytes) -> None:
    """Store `key` in the site row, sealed and bound to that row (the site must have its id)."""
    assert site.id is not None
    site.site_key_sealed = active_sealer().seal(key, table="site", column="site_key", row=site.id)


def site_key(site: Site) -> bytes:
    """The site's key, opened with the master key (cloud.vault.sealing.SealError if it does not open)."""
    return active_sealer().open(site.site_key_sealed, table="site", column="site_key", row=site.id)


def create_site(*, session: Session, operator: Operator, site_in: SiteCreate) -> tuple[Site, str]:
    """A new site and its key (hex), to be shown once. Only global admins create sites."""
    if operator.site_id is not None or not operator.is_admin:
        raise Forbidden("only an admin key that is not bound to a site can create sites")
    key = secrets.token_bytes(SITE_KEY_BYTES)
    site = Site.model_validate(site_in)
    session.add(site)
    session.flush()  # the row id binds the sealed key to this row
    seal_site_key(site, key)
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
    return site, key.hex()


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
    # Without doors or users, what is left (rules, zones, groups, keys, webhooks) reaches nothing: remove it.
    assert site.id is not None
    delete_site_endpoints(session=session, site_id=site.id)
    delete_with_dependents(
        session=session,
        obj=site,
        dependents=(AccessRule.site_id, Zone.site_id, Group.site_id, ApiKey.site_id),
    )
