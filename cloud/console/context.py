"""What every console request knows: who is signed in, in which site, in which language; and the
dependencies that refuse a request before a route runs (no session, cross-origin post, bad CSRF token,
a viewer trying to change something)."""

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from cloud.accounts.models import ConsoleSession, OperatorAccount
from cloud.accounts.sessions import SessionLifetime, csrf_token, find_session
from cloud.api.deps import SessionDep
from cloud.auth.operator import Operator
from cloud.console.i18n import Translator, negotiate
from cloud.console.security import (
    CSRF_FIELD,
    FORM_COOKIE,
    LANGUAGE_COOKIE,
    MAX_FORM_BYTES,
    SESSION_COOKIE,
    csrf_ok,
    is_same_origin,
)
from cloud.console.timefmt import format_instant, iso_utc
from cloud.models.site import Site
from cloud.settings import Settings


class SignInRequired(Exception):
    """No live session: GET pages redirect to the sign-in page, posts are refused."""


class Refused(Exception):
    """A request refused with an error page: status and a catalogue key for the explanation."""

    def __init__(self, status: int, message_key: str) -> None:
        super().__init__(message_key)
        self.status = status
        self.message_key = message_key


@dataclass
class Console:
    """The request's view of the console; templates receive it as `c`."""

    request: Request
    settings: Settings
    t: Translator
    account: OperatorAccount | None = None
    record: ConsoleSession | None = None
    site: Site | None = None
    sites: list[Site] = field(default_factory=list)
    csrf: str = ""

    @property
    def lang(self) -> str:
        return self.t.lang

    @property
    def prefix(self) -> str:
        return self.settings.console_prefix

    def url(self, path: str = "/") -> str:
        return self.prefix + path

    @property
    def here(self) -> str:
        """This page's path and query, for "come back here" fields."""
        query = self.request.url.query
        return self.request.url.path + ("?" + query if query else "")

    def page_url(self, **params: object) -> str:
        """This page with some query parameters replaced (None removes one): pager and filter links."""
        url = self.request.url.remove_query_params([k for k, v in params.items() if v is None])
        url = url.include_query_params(**{k: v for k, v in params.items() if v is not None})
        return url.path + ("?" + url.query if url.query else "")

    @property
    def can_write(self) -> bool:
        return self.account is not None and self.account.role in ("admin", "operator")

    @property
    def timezone(self) -> str:
        return self.site.timezone if self.site is not None else "UTC"

    def when(self, ts: int) -> str:
        return format_instant(ts, self.timezone)

    def iso(self, ts: int) -> str:
        return iso_utc(ts)

    @property
    def operator(self) -> Operator:
        """The actor the domain functions see: this account, acting within the site on screen."""
        assert self.account is not None and self.account.id is not None
        return Operator(
            key_id=None,
            name=self.account.username,
            role=self.account.role,
            site_id=self.site.id if self.site is not None else self.account.site_id,
            account_id=self.account.id,
        )

    def need_site(self) -> Site:
        if self.site is None:
            raise Refused(409, "error.no_site")
        return self.site


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def anonymous(request: Request) -> Console:
    """The context of a page anyone may see (sign-in): language, and the pre-session form token."""
    settings = settings_of(request)
    lang = negotiate(
        cookie=request.cookies.get(LANGUAGE_COOKIE), accept_language=request.headers.get("accept-language")
    )
    return Console(
        request=request, settings=settings, t=Translator(lang), csrf=request.cookies.get(FORM_COOKIE, "")
    )


def _lifetime(settings: Settings) -> SessionLifetime:
    return SessionLifetime(idle_s=settings.console_session_idle_s, max_s=settings.console_session_max_s)


def _visible_sites(session: Session, account: OperatorAccount) -> list[Site]:
    query = select(Site).order_by(col(Site.id))
    if account.site_id is not None:
        query = query.where(Site.id == account.site_id)
    return list(session.exec(query).all())


def current(request: Request, session: SessionDep) -> Console:
    """The signed-in context, or SignInRequired."""
    console = anonymous(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    found = find_session(
        session=session, token=token, lifetime=_lifetime(console.settings), now=int(time.time())
    )
    if found is None:
        raise SignInRequired()
    session.commit()  # find_session may have touched last_seen_at
    console.record, console.account = found
    console.csrf = csrf_token(token)
    console.sites = _visible_sites(session, console.account)
    wanted = console.record.site_id
    console.site = next(
        (s for s in console.sites if s.id == wanted), console.sites[0] if console.sites else None
    )
    return console


SignedIn = Annotated[Console, Depends(current)]


async def checked_form(request: Request, console: Console) -> FormData:
    """The posted form, once it is known to come from this origin with the right CSRF token."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_FORM_BYTES:
        raise Refused(413, "error.too_large")
    if not is_same_origin(request, console.settings):
        raise Refused(403, "error.cross_origin")
    form = await request.form()
    if not csrf_ok(console.csrf, form.get(CSRF_FIELD)):
        raise Refused(403, "error.csrf")
    return form


@dataclass
class Posted:
    console: Console
    form: FormData

    def raw(self, name: str) -> str:
        """A field as typed (passwords: spaces count); "" when absent or not text."""
        value = self.form.get(name)
        return value if isinstance(value, str) else ""

    def text(self, name: str) -> str:
        return self.raw(name).strip()


async def posted(request: Request, console: SignedIn) -> Posted:
    return Posted(console, await checked_form(request, console))


async def posted_by_writer(given: Annotated[Posted, Depends(posted)]) -> Posted:
    """Viewers see no change forms; a viewer who posts one anyway is refused here, before any change."""
    if not given.console.can_write:
        raise Refused(403, "error.read_only")
    return given


def signed_in_or_anonymous(request: Request, session: SessionDep) -> Console:
    try:
        return current(request, session)
    except SignInRequired:
        return anonymous(request)


async def posted_anonymously(request: Request) -> Posted:
    console = anonymous(request)
    return Posted(console, await checked_form(request, console))


async def posted_by_anyone(
    request: Request, console: Annotated[Console, Depends(signed_in_or_anonymous)]
) -> Posted:
    return Posted(console, await checked_form(request, console))


# A change posted by a signed-in account, any role (sign-out, language, site switch).
Post = Annotated[Posted, Depends(posted)]
# A change to the site's data: admins and managers only.
WriterPost = Annotated[Posted, Depends(posted_by_writer)]
# A post made before signing in (the sign-in form, the language switch on the sign-in page).
AnonymousPost = Annotated[Posted, Depends(posted_anonymously)]
# A post that works signed in or not (the language switch), checked with the matching token.
AnyPost = Annotated[Posted, Depends(posted_by_anyone)]
