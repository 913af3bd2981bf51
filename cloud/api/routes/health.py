"""/healthz: the process is up and the database answers."""

from fastapi import APIRouter
from sqlalchemy import text

from cloud.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok", "database": "ok"}
