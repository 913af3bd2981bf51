"""Form handling shared by the pages: validation errors as translated per-field messages, paging."""

from dataclasses import dataclass

from pydantic import ValidationError

from cloud.console.i18n import Translator

_MESSAGES = {
    "missing": "form.required",
    "string_too_short": "form.required",
    "string_too_long": "form.too_long",
}


def field_errors(error: ValidationError, t: Translator) -> dict[str, str]:
    """{field: message in the page's language} for each refused field (the first problem of each)."""
    errors: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        key = _MESSAGES.get(item["type"], "form.invalid")
        errors.setdefault(
            field, t(key, **{k: v for k, v in (item.get("ctx") or {}).items() if k == "max_length"})
        )
    return errors


def optional(text: str) -> str | None:
    """An optional text field: empty means not given."""
    return text or None


@dataclass(frozen=True)
class Pager:
    """Offset paging for lists ordered by id: ?page=N (1-based)."""

    number: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


MAX_PAGE = 1_000_000
