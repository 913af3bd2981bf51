"""The audit trail: every change with who made it (API key or console account), before and after."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from cloud.api.deps import SessionDep
from cloud.audit.service import list_audit
from cloud.console.context import SignedIn
from cloud.console.forms import MAX_PAGE, Pager
from cloud.console.templating import render

router = APIRouter(prefix="/audit")

# Fields of the audited objects that hold Unix seconds: shown in the site's timezone.
INSTANT_FIELDS = frozenset({"created_at", "updated_at", "last_seen", "valid_from", "valid_until"})
ENTITIES = ("user", "group", "credential", "access_rule", "door", "zone", "site", "api_key")


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each field that differs; every field of a creation or deletion."""
    before, after = before or {}, after or {}
    fields = sorted(set(before) | set(after))
    return [
        (name, before.get(name), after.get(name)) for name in fields if before.get(name) != after.get(name)
    ]


@router.get("")
def audit_trail(
    console: SignedIn,
    session: SessionDep,
    entity: Annotated[str, Query(max_length=32, pattern=r"^[a-z_]*$")] = "",
    entity_id: Annotated[str, Query(max_length=64, pattern=r"^[0-9a-f-]*$")] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    site = console.need_site()
    size = console.settings.console_page_size
    rows, total = list_audit(
        session=session,
        site_id=site.id,
        entity=entity or None,
        entity_id=entity_id or None,
        offset=(page - 1) * size,
        limit=size,
    )
    return render(
        console,
        "audit.html",
        entries=[(entry, changes(entry.before, entry.after)) for entry in rows],
        pager=Pager(page, size, total),
        entity=entity,
        entity_id=entity_id,
        entities=ENTITIES,
        instant_fields=INSTANT_FIELDS,
    )
