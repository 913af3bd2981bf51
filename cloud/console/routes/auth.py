"""Sign-in and sign-out, the language switch, and the site a global account looks at."""

import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from cloud.accounts.service import SignInAttempt, sign_in
from cloud.accounts.sessions import SessionLifetime, end_session, set_session_site, start_session
from cloud.api.deps import SessionDep
from cloud.console.context import (
    AnonymousPost,
    AnyPost,
    Console,
    Post,
    SignInRequired,
    anonymous,
    current,
)
from cloud.console.i18n import LANGUAGES
from cloud.console.security import (
    FORM_COOKIE,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    client_address,
    local_path,
    new_form_token,
    set_cookie,
)
from cloud.console.templating import redirect, render

router = APIRouter()

LANGUAGE_COOKIE_AGE_S = 365 * 86400


def _sign_in_page(console: Console, next_path: str, status: int = 200, failed: bool = False) -> Response:
    token = console.csrf or new_form_token()
    console.csrf = token
    response = render(console, "sign_in.html", status=status, next_path=next_path, failed=failed)
    set_cookie(response, console.settings, FORM_COOKIE, token)
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, session: SessionDep, next: str | None = None) -> Response:
    console = anonymous(request)
    target = local_path(next, console.prefix)
    try:
        current(request, session)
    except SignInRequired:
        return _sign_in_page(console, target)
    return RedirectResponse(target, status_code=303)


@router.post("/sign-in")
def sign_in_submit(posted: AnonymousPost, session: SessionDep) -> Response:
    console, settings = posted.console, posted.console.settings
    request = console.request
    target = local_path(posted.text("next"), console.prefix)
    client = client_address(request, settings.trusted_proxies)
    limiter = request.app.state.address_limiter
    account = None
    if not limiter.retry_after(client):
        attempt = SignInAttempt(
            username=posted.text("username"),
            password=posted.raw("password"),
            client=client,
            now=int(time.time()),
        )
        account = sign_in(
            session=session,
            passwords=request.app.state.passwords,
            policy=request.app.state.lockout,
            attempt=attempt,
        )
    if account is None:
        limiter.record_failure(client)
        session.commit()
        return _sign_in_page(console, target, status=401, failed=True)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        end_session(session=session, token=previous)  # signing in again replaces this browser's session
    lifetime = SessionLifetime(idle_s=settings.console_session_idle_s, max_s=settings.console_session_max_s)
    _, token = start_session(session=session, account=account, lifetime=lifetime, now=int(time.time()))
    session.commit()
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, settings, SESSION_COOKIE, token)
    clear_cookie(response, settings, FORM_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(posted: Post, session: SessionDep) -> Response:
    console = posted.console
    end_session(session=session, token=console.request.cookies.get(SESSION_COOKIE, ""))
    session.commit()
    response = redirect(console, "/sign-in")
    clear_cookie(response, console.settings, SESSION_COOKIE)
    return response


@router.post("/language")
def switch_language(posted: AnyPost) -> Response:
    console = posted.console
    lang = posted.text("lang")
    response = RedirectResponse(local_path(posted.text("next"), console.prefix), status_code=303)
    if lang in LANGUAGES:
        set_cookie(response, console.settings, LANGUAGE_COOKIE, lang, max_age=LANGUAGE_COOKIE_AGE_S)
    return response


@router.post("/site")
def switch_site(posted: Post, session: SessionDep) -> Response:
    """A global account picks the site it works in; a site-bound account can only pick its own."""
    console = posted.console
    wanted = posted.text("site_id")
    site = next((s for s in console.sites if str(s.id) == wanted), None)
    if site is not None and site.id is not None and console.record is not None:
        set_session_site(session=session, record=console.record, site_id=site.id)
        session.commit()
    return RedirectResponse(local_path(posted.text("next"), console.prefix), status_code=303)
