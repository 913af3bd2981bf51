"""Merging several grants of one credential on one door into the single entry a lock stores.

A lock keeps one entry per credential hash, so when several rules grant the same credential on the same
door (a personal rule and a group rule, a door rule and a zone rule) they are merged into the smallest
single entry that allows everything each grant allows:

- role: admin if any grant is admin;
- validity: the earliest valid_from and the latest valid_until (0 = unbounded wins on either side);
- windows: none (= at any time) if any grant has none; otherwise the union, with windows of equal
  start/end combined by OR-ing their day masks (exact). If the union still exceeds MAX_WINDOWS the
  extra windows are dropped (fail closed: the lock refuses rather than over-grants) and counted in
  `truncated`, which the effective-permissions answer reports so an operator can simplify the rules.

The hull of validity and union of windows may allow combinations no single grant does (grant A's
windows within grant B's validity); that is the price of one entry per credential, documented in
docs/API.md.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared_schema.messages import ROLE_ADMIN, ROLE_NORMAL
from shared_schema.schedule import MAX_WINDOWS


@dataclass(frozen=True)
class Grant:
    """One reason a credential opens a door: the rule, and the group it came through if any."""

    cred_hash: str
    credential_id: int
    user_id: int
    rule_id: int
    rule_name: str
    via_group_id: int | None
    role: int
    valid_from: int
    valid_until: int
    windows: tuple[tuple[int, int, int], ...]


def role_code(role: str) -> int:
    return ROLE_ADMIN if role == "admin" else ROLE_NORMAL


def _merge_windows(grants: list[Grant]) -> tuple[list[list[int]], bool]:
    if any(not grant.windows for grant in grants):
        return [], False
    days_by_span: dict[tuple[int, int], int] = {}
    for grant in grants:
        for days, start, end in grant.windows:
            days_by_span[(start, end)] = days_by_span.get((start, end), 0) | days
    merged = [[days, start, end] for (start, end), days in sorted(days_by_span.items())]
    return merged[:MAX_WINDOWS], len(merged) > MAX_WINDOWS


def _merge_one(cred_hash: str, grants: list[Grant]) -> tuple[list[Any], bool]:
    if len(grants) == 1:  # the common case: nothing to merge
        grant = grants[0]
        return [
            cred_hash,
            grant.role,
            grant.valid_from,
            grant.valid_until,
            [list(w) for w in grant.windows],
        ], False
    role = max(grant.role for grant in grants)
    froms = [grant.valid_from for grant in grants]
    untils = [grant.valid_until for grant in grants]
    valid_from = 0 if 0 in froms else min(froms)
    valid_until = 0 if 0 in untils else max(untils)
    windows, truncated = _merge_windows(grants)
    return [cred_hash, role, valid_from, valid_until, windows], truncated


def merge_grants(grants: Iterable[Grant]) -> tuple[list[list[Any]], int]:
    """Entries sorted by credential hash (the wire order), and how many were truncated."""
    by_hash: dict[str, list[Grant]] = {}
    for grant in grants:
        by_hash.setdefault(grant.cred_hash, []).append(grant)
    entries = []
    truncated = 0
    for cred_hash in sorted(by_hash):
        entry, was_truncated = _merge_one(cred_hash, by_hash[cred_hash])
        entries.append(entry)
        truncated += was_truncated
    return entries, truncated
