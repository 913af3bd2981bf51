"""Request checks of the console: the client's address, same-origin posts, CSRF tokens, cookies, headers."""

import ipaddress
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response

from cloud.accounts.sessions import tokens_match
from cloud.settings import Settings

SESSION_COOKIE = "oak_console"
# Before sign-in there is no session: the sign-in and language forms carry this cookie's value instead
# (double submit), so a cross-site page cannot sign a victim into the attacker's account.
FORM_COOKIE = "oak_console_form"
LANGUAGE_COOKIE = "oak_console_lang"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 64 * 1024

SECURITY_HEADERS = {
    # Everything comes from this origin: no inline script, no framing, forms post only here.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The socket peer, or, when that peer is a trusted proxy, the nearest untrusted X-Forwarded-For hop.

    Only proxies we run may name the client: otherwise anyone could send X-Forwarded-For and pick the
    address that the lockout charges.
    """
    peer = request.client.host if request.client else "unknown"
    if peer not in trusted_proxies:
        return peer
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop if _valid_ip(hop) else peer
    return peer


def expected_origin(request: Request, settings: Settings) -> str:
    if settings.console_public_origin:
        return settings.console_public_origin.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


def is_same_origin(request: Request, settings: Settings) -> bool:
    """Origin (sent by browsers on every POST), or Referer when a privacy setting dropped Origin."""
    expected = expected_origin(request, settings)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == expected
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" == expected
    return False


def csrf_ok(expected: str | None, given: object) -> bool:
    return bool(expected) and isinstance(given, str) and tokens_match(expected or "", given)


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


def set_cookie(
    response: Response, settings: Settings, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=settings.console_prefix,
        secure=settings.console_cookie_secure,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name,
        path=settings.console_prefix,
        secure=settings.console_cookie_secure,
        httponly=True,
        samesite="strict",
    )


def local_path(target: str | None, prefix: str) -> str:
    """A redirect target inside the console (never another site: no scheme, no //host, no backslash)."""
    if not target or not target.startswith(prefix + "/") and target != prefix:
        return prefix + "/"
    if "//" in target or "\\" in target or any(ord(c) < 33 for c in target):
        return prefix + "/"
    return target
