"""Japanese and English: message catalogues (locales/*.json, written here), the language a request gets
(a switch stored in a cookie, else the browser's Accept-Language), and the translator the templates call."""

import json
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "ja")
DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}


@cache
def catalogue(lang: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((LOCALES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return loaded


def _accepted(header: str) -> list[tuple[float, int, str]]:
    """Accept-Language entries as (q, position, primary tag), best first."""
    ranked = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if tag:
            ranked.append((-quality, position, tag.split("-")[0].lower()))
    return sorted(ranked)


def negotiate(*, cookie: str | None, accept_language: str | None) -> str:
    """The switch's choice if it set one, else the browser's most preferred language we have."""
    if cookie in LANGUAGES:
        return cookie
    for negative_quality, _, tag in _accepted(accept_language or ""):
        if negative_quality < 0 and tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE


class Translator:
    """t("key", name=...): the message in the page's language, else English, else the key itself."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.messages = catalogue(lang)
        self.fallback = catalogue(DEFAULT_LANGUAGE)

    def __call__(self, key: str, **params: Any) -> str:
        text = self.messages.get(key) or self.fallback.get(key) or key
        return text.format(**params) if params else text

    def label(self, group: str, value: str) -> str:
        """The name of a stored value (an audit action, an entity): translated if known, else as stored."""
        key = f"{group}.{value}"
        return self.messages.get(key) or self.fallback.get(key) or value
