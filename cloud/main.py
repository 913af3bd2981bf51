"""Wires the FastAPI app: settings, engine (refusing an unmigrated schema), routers, error mapping, and the
web console mounted under /console."""

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError

from cloud.api.router import api_router
from cloud.api.routes import health
from cloud.auth.limiter import AuthFailureLimiter
from cloud.auth.ratelimit import KeyRateLimiter
from cloud.console.app import create_console_app
from cloud.db import make_engine
from cloud.errors import Conflict, Forbidden, Invalid, NotFound
from cloud.migrate import check_migrated
from cloud.settings import Settings
from cloud.vault.master import install_master_key

DESCRIPTION = """Operators' API of the open-source retrofit smart lock.

Authenticate with `Authorization: Bearer <API key>` (create the first one with
`python -m cloud keys create --role admin --name NAME`). Lists take `offset` and `limit` and come in
a stable order; `/events` uses a cursor. Secrets (site keys, device secrets, phone tokens, API keys) are
in the creation response only."""


def _detail(status_code: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status_code, content={"detail": message})


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    def not_found(_request: Request, error: NotFound) -> JSONResponse:
        return _detail(404, str(error))

    @app.exception_handler(Conflict)
    def conflict(_request: Request, error: Conflict) -> JSONResponse:
        return _detail(409, str(error))

    @app.exception_handler(Forbidden)
    def forbidden(_request: Request, error: Forbidden) -> JSONResponse:
        return _detail(403, str(error))

    @app.exception_handler(Invalid)
    def invalid(_request: Request, error: Invalid) -> JSONResponse:
        item = {"loc": [error.location, error.field], "msg": error.message, "type": "value_error"}
        return JSONResponse(status_code=422, content={"detail": [item]})

    @app.exception_handler(RequestValidationError)
    def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's default answer echoes each refused value ("input"). Leave it out: a refused body may hold
        # a card identifier or a key pasted in the wrong field, and a value with no UTF-8 form (a lone
        # surrogate escaped in JSON) would make the answer itself fail with a 500.
        detail = [{key: value for key, value in item.items() if key != "input"} for item in error.errors()]
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder(detail)})

    @app.exception_handler(IntegrityError)
    def integrity(_request: Request, _error: IntegrityError) -> JSONResponse:
        # Two concurrent requests raced past the service's uniqueness check: the database refused one.
        return _detail(409, "conflicting change (a unique value is already taken): retry or pick another")

    @app.exception_handler(DataError)
    def data_error(_request: Request, _error: DataError) -> JSONResponse:
        return _detail(422, "a value cannot be stored (out of range or not representable)")


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app; raises cloud.migrate.DatabaseNotMigrated if the schema is not at head and
    cloud.vault.master.MasterKeyError without a usable master key."""
    settings = settings or Settings()
    install_master_key(settings)
    engine = engine or make_engine(settings.database_url)
    check_migrated(engine)
    app = FastAPI(title="OpenAkerun cloud", version="1.0.0", description=DESCRIPTION)
    app.state.settings = settings
    app.state.engine = engine
    app.state.limiter = AuthFailureLimiter(settings.auth_failure_limit, settings.auth_failure_window_s)
    app.state.key_limiter = KeyRateLimiter()
    _install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(api_router, prefix=settings.api_prefix)
    app.mount(settings.console_prefix, create_console_app(settings, engine))
    return app
