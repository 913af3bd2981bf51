"""/sites: a global admin creates them (the response carries the site key, once)."""

from fastapi import APIRouter, status
from sqlmodel import Session, col, select

from cloud.api.deps import AdminOperator, CurrentOperator, ObjectId, PageDep, SessionDep
from cloud.auth.operator import Operator
from cloud.crud import sites as service
from cloud.crud.scope import page
from cloud.errors import NotFound
from cloud.lockkeys import service as lockkeys
from cloud.lockkeys.models import SiteRotationPublic
from cloud.models.site import Site, SiteCreate, SiteCreated, SitePublic, SitesPublic, SiteUpdate

router = APIRouter(prefix="/sites", tags=["sites"])


def _get(session: Session, operator: Operator, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None or not operator.sees(site.id):
        raise NotFound("site", site_id)
    return site


@router.get("", response_model=SitesPublic)
def list_sites(session: SessionDep, operator: CurrentOperator, paging: PageDep) -> SitesPublic:
    query = select(Site)
    if operator.site_id is not None:
        query = query.where(Site.id == operator.site_id)
    rows, count = page(
        session=session, query=query, order_by=col(Site.id), offset=paging.offset, limit=paging.limit
    )
    return SitesPublic(data=[SitePublic.model_validate(row) for row in rows], count=count)


@router.post("", response_model=SiteCreated, status_code=status.HTTP_201_CREATED)
def create_site(session: SessionDep, operator: AdminOperator, site_in: SiteCreate) -> SiteCreated:
    """Creates a site. The response's site_key is shown this once: locks of the site need it."""
    site, site_key = service.create_site(session=session, operator=operator, site_in=site_in)
    session.commit()
    return SiteCreated.model_validate(site, update={"site_key": site_key})


@router.get("/{site_id}", response_model=SitePublic)
def read_site(session: SessionDep, operator: CurrentOperator, site_id: ObjectId) -> Site:
    return _get(session, operator, site_id)


@router.patch("/{site_id}", response_model=SitePublic)
def update_site(session: SessionDep, operator: AdminOperator, site_id: ObjectId, site_in: SiteUpdate) -> Site:
    site = service.update_site(
        session=session, operator=operator, site=_get(session, operator, site_id), site_in=site_in
    )
    session.commit()
    return site


@router.delete("/{site_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_site(session: SessionDep, operator: AdminOperator, site_id: ObjectId) -> None:
    service.delete_site(session=session, operator=operator, site=_get(session, operator, site_id))
    session.commit()


@router.post("/{site_id}/rotate-key", response_model=SiteRotationPublic, status_code=status.HTTP_202_ACCEPTED)
def rotate_site_key(session: SessionDep, operator: AdminOperator, site_id: ObjectId) -> SiteRotationPublic:
    """Rotates the device secret of every lock of the site (and so each lock's K_up, K_down and K_table). The
    site key itself cannot change: the cloud keeps no identifier to re-derive credential ids from. Doors that
    are retired, never provisioned or already rotating are listed in `skipped`."""
    site = _get(session, operator, site_id)
    rotation = lockkeys.rotate_site_keys(session=session, operator=operator, site=site)
    session.commit()
    return rotation
