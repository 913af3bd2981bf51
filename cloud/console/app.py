"""Builds the console as its own ASGI app, mounted by cloud.main under settings.console_prefix.

Its own app so that its errors are pages (not the API's JSON), its security headers apply to it alone,
and its routes stay out of the REST API's OpenAPI document.
"""

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from cloud.accounts.lockout import LockoutPolicy
from cloud.accounts.passwords import Passwords
from cloud.auth.limiter import AuthFailureLimiter
from cloud.console.context import Refused, SignInRequired, anonymous, current
from cloud.console.routes import audit, auth, dashboard, entries, groups, people
from cloud.console.security import MAX_FORM_BYTES, SECURITY_HEADERS
from cloud.console.templating import render
from cloud.errors import Conflict, Forbidden, Invalid, NotFound
from cloud.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"


def _error_page(request: Request, status: int, message_key: str) -> Response:
    """The error in the page's language, with the signed-in header when there is a session."""
    with Session(request.app.state.engine) as session:
        try:
            console = current(request, session)
        except SignInRequired:
            console = anonymous(request)
        return render(console, "error.html", status=status, status_code=status, message_key=message_key)


# Errors of the domain functions and of request parsing, as pages: status and the catalogue key.
_ERROR_PAGES: dict[type[Exception], tuple[int, str]] = {
    NotFound: (404, "error.not_found"),
    Forbidden: (403, "error.read_only"),
    Invalid: (422, "error.invalid_request"),
    Conflict: (409, "error.conflict"),
    RequestValidationError: (422, "error.invalid_request"),
}


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    def sign_in_required(request: Request, _error: SignInRequired) -> Response:
        if request.method == "GET":
            console = anonymous(request)
            target = quote(console.here, safe="/")
            return Response(status_code=303, headers={"Location": console.url(f"/sign-in?next={target}")})
        return _error_page(request, 403, "error.signed_out")

    @app.exception_handler(Refused)
    def refused(request: Request, error: Refused) -> Response:
        return _error_page(request, error.status, error.message_key)

    def page_for(status: int, message_key: str) -> Callable[[Request, Exception], Response]:
        return lambda request, _error: _error_page(request, status, message_key)

    for error_class, (status, message_key) in _ERROR_PAGES.items():
        app.add_exception_handler(error_class, page_for(status, message_key))

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        key = "error.not_found" if error.status_code == 404 else "error.invalid_request"
        return _error_page(request, error.status_code, key)


def create_console_app(settings: Settings, engine: Engine) -> FastAPI:
    app = FastAPI(
        title="OpenAkerun console",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        max_body_size=MAX_FORM_BYTES,  # also bounds a chunked body, which has no Content-Length to check
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.passwords = Passwords(settings)
    app.state.lockout = LockoutPolicy.from_settings(settings)
    app.state.address_limiter = AuthFailureLimiter(
        settings.sign_in_address_limit, settings.sign_in_address_window_s
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    _install_error_pages(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (auth, dashboard, people, groups, entries, audit):
        app.include_router(module.router)
    return app
