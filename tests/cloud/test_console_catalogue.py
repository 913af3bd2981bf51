"""The console's texts: both catalogues have every message the templates and routes use, with the same
placeholders; the browser's language is negotiated as Accept-Language says."""

import re
import string
from pathlib import Path

import pytest

from cloud.console.i18n import LANGUAGES, Translator, catalogue, negotiate

CONSOLE = Path(__file__).resolve().parents[2] / "cloud" / "console"
# t("key"), t('key'), Refused(403, "key"), "person.added"-style notices: every literal that looks like a key.
_TEMPLATE_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""")
_CODE_KEY = re.compile(r"""["']((?:error|form|person|group|auth)\.[a-z_]+)["']""")


def used_keys() -> set[str]:
    keys = set()
    for path in (CONSOLE / "templates").glob("*.html"):
        keys |= set(_TEMPLATE_KEY.findall(path.read_text(encoding="utf-8")))
    for path in CONSOLE.rglob("*.py"):
        keys |= {
            key for key in _CODE_KEY.findall(path.read_text(encoding="utf-8")) if not key.endswith(".html")
        }
    return keys


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_every_key_used_with_the_same_placeholders() -> None:
    english, japanese = catalogue("en"), catalogue("ja")
    assert set(english) == set(japanese)
    missing = used_keys() - set(english)
    assert not missing, missing
    assert len(used_keys()) > 100
    for key, text in english.items():
        assert text.strip() and japanese[key].strip(), key
        assert placeholders(text) == placeholders(japanese[key]), key
    # Japanese is actually Japanese (not a copy of the English text) for the visible words.
    assert sum(1 for key in english if english[key] == japanese[key]) <= 2


def test_dynamic_keys_are_complete() -> None:
    """Keys built in templates from stored values: roles, statuses, results, actions, entities."""
    for group, values in {
        "role": ("admin", "operator", "viewer"),
        "status": ("active", "suspended"),
        "result": ("granted", "denied", "info"),
        "mode": ("normal", "passage", "lockdown"),
        "nav": ("doors", "people", "groups", "entries", "audit"),
        "entity": ("user", "group", "credential", "access_rule", "door", "zone", "site", "api_key"),
        "action": (
            "create",
            "update",
            "delete",
            "add_member",
            "remove_member",
            "command",
            "revoke",
            "import",
        ),
        "actor": ("api_key", "account"),
        "kind": ("felica", "iso14443a", "phone", "mobile"),
    }.items():
        for lang in LANGUAGES:
            for value in values:
                assert f"{group}.{value}" in catalogue(lang), (lang, group, value)
    assert Translator("ja").label("action", "future_action") == "future_action"


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, "ja-JP,ja;q=0.9,en-US;q=0.8", "ja"),
        (None, "en-GB,en;q=0.9,ja;q=0.8", "en"),
        (None, "fr-FR,fr;q=0.9,ja;q=0.5,en;q=0.4", "ja"),
        (None, "en;q=0.3, ja;q=0.7", "ja"),
        (None, "ja;q=0, en", "en"),
        (None, "de", "en"),
        (None, "", "en"),
        (None, ";;;,q=,ja;q=abc", "en"),
        ("ja", "en", "ja"),
        ("en", "ja", "en"),
        ("xx", "ja", "ja"),
    ],
)
def test_negotiation(cookie: str | None, header: str, expected: str) -> None:
    assert negotiate(cookie=cookie, accept_language=header) == expected
