"""/import: bulk CSV of groups, users and credentials; dry run; per-line errors; all or nothing."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from cloud.api.deps import SessionDep, WriterOperator
from cloud.crud.scope import target_site
from cloud.errors import Invalid
from cloud.importer.models import MAX_IMPORT_CHARS, ImportReport, ImportRequest
from cloud.importer.service import import_csv
from cloud.models.common import storable_text

router = APIRouter(prefix="/import", tags=["import"])


@router.post("", response_model=ImportReport, responses={422: {"model": ImportReport}})
def import_directory(
    session: SessionDep, operator: WriterOperator, body: ImportRequest
) -> ImportReport | JSONResponse:
    """Applies the whole file or nothing. 200 with the report; 422 with the same report listing every
    refused line (nothing written). dry_run=true checks and reports without writing."""
    if len(body.csv) > MAX_IMPORT_CHARS:
        raise Invalid("csv", f"larger than {MAX_IMPORT_CHARS} characters: split the file")
    try:  # checked here, not in the model, so that the 422 does not echo the whole file back
        storable_text(body.csv)
    except ValueError as error:
        raise Invalid("csv", f"the CSV cannot be stored: {error}") from None
    site = target_site(session=session, operator=operator, requested=body.site_id)
    report = import_csv(session=session, operator=operator, site=site, text=body.csv, dry_run=body.dry_run)
    if report.errors:
        return JSONResponse(status_code=422, content=report.model_dump(mode="json"))
    if report.applied:
        session.commit()
    return report
