"""Jinja2 pages: one environment, autoescaped, strict about undefined names; every page gets the Console."""

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from cloud.console.context import Console
from cloud.console.i18n import LANGUAGE_NAMES, LANGUAGES
from cloud.console.security import CSRF_FIELD

TEMPLATES_DIR = Path(__file__).parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals.update(LANGUAGES=LANGUAGES, LANGUAGE_NAMES=LANGUAGE_NAMES, CSRF_FIELD=CSRF_FIELD)


def render(console: Console, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = environment.get_template(template).render(c=console, t=console.t, **values)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def redirect(console: Console, path: str) -> RedirectResponse:
    """303 See Other after a post: the browser follows with a GET (no resubmission on reload)."""
    return RedirectResponse(console.url(path), status_code=303)
