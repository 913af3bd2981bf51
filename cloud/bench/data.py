"""Large data sets built straight through bulk inserts, for the scale test and the benchmarks.

build_big_site: N users (one card each) x D doors. Every user is in one of D "team" groups (team d ->
door d), and also in an "everyone" group whose rule targets a zone of the first ZONE_DOORS doors.
insert_events: M access events spread over those doors and users (executemany on SQLite, COPY on
PostgreSQL).
"""

import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, insert
from sqlmodel import Session, col, select

from cloud.crud.sites import seal_site_key
from cloud.events.models import Event
from cloud.models.credential import Credential
from cloud.models.door import Door
from cloud.models.rule import AccessRule
from cloud.models.site import Site
from cloud.models.user import Group, GroupMember, User
from cloud.models.zone import Zone, ZoneDoor

ZONE_DOORS = 2


@dataclass
class BigSite:
    site_id: int
    door_ids: list[int]
    team_rule_ids: list[int]  # index d: the rule of team d on door d
    zone_rule_id: int
    zone_id: int
    user_ids: list[int]


def _ids(values: object) -> list[int]:
    return [int(value) for value in values]  # type: ignore[attr-defined]


def build_big_site(session: Session, users: int, doors: int) -> BigSite:
    site = Site(name="Big", timezone="Asia/Tokyo")
    session.add(site)
    session.flush()
    assert site.id is not None
    seal_site_key(site, secrets.token_bytes(32))
    sid: int = site.id
    session.execute(
        insert(Door),
        [
            {
                "site_id": sid,
                "name": f"Door {d}",
                "device_id": f"big-{sid}-{d}",
                "epoch": 1,
                "retired_at": 0,
                "mode": "normal",
                "passage_windows": [],
                "firmware_version": "",
                "applied_permission_version": 0,
                "last_seen": 0,
                "online": False,
                "created_at": 0,
            }
            for d in range(doors)
        ],
    )
    door_ids = _ids(session.exec(select(Door.id).where(Door.site_id == sid).order_by(col(Door.id))).all())
    session.execute(
        insert(User),
        [{"site_id": sid, "name": f"User {u}", "status": "active", "created_at": 0} for u in range(users)],
    )
    user_ids = _ids(session.exec(select(User.id).where(User.site_id == sid).order_by(col(User.id))).all())
    session.execute(
        insert(Credential),
        [
            {
                "site_id": sid,
                "user_id": uid,
                "kind": "felica",
                "identifier_hint": f"felica:****{uid % 65536:04X}",
                "not_unique": False,
                "cred_hash": f"{sid:08x}{uid:024x}",
                "assurance": "uid",
                "label": "",
                "created_at": 0,
            }
            for uid in user_ids
        ],
    )
    session.execute(
        insert(Group),
        [{"site_id": sid, "name": f"team {d}", "description": ""} for d in range(doors)]
        + [{"site_id": sid, "name": "everyone", "description": ""}],
    )
    group_ids = _ids(session.exec(select(Group.id).where(Group.site_id == sid).order_by(col(Group.id))).all())
    teams, everyone = group_ids[:doors], group_ids[doors]
    session.execute(
        insert(GroupMember),
        [{"group_id": teams[i % doors], "user_id": uid} for i, uid in enumerate(user_ids)]
        + [{"group_id": everyone, "user_id": uid} for uid in user_ids],
    )
    zone = Zone(site_id=sid, name="Ground floor")
    session.add(zone)
    session.flush()
    session.execute(insert(ZoneDoor), [{"zone_id": zone.id, "door_id": d} for d in door_ids[:ZONE_DOORS]])
    session.execute(
        insert(AccessRule),
        [
            {
                "site_id": sid,
                "group_id": teams[d],
                "door_id": door_ids[d],
                "name": f"team {d}",
                "role": "normal",
                "windows": [[31, 480, 1200]],
                "valid_from": 0,
                "valid_until": 0,
                "enabled": True,
                "created_at": 0,
            }
            for d in range(doors)
        ]
        + [
            {
                "site_id": sid,
                "group_id": everyone,
                "zone_id": zone.id,
                "name": "everyone",
                "role": "normal",
                "windows": [[31, 540, 1080]],
                "valid_from": 0,
                "valid_until": 0,
                "enabled": True,
                "created_at": 0,
            }
        ],
    )
    rule_ids = _ids(
        session.exec(
            select(AccessRule.id).where(AccessRule.site_id == sid).order_by(col(AccessRule.id))
        ).all()
    )
    session.flush()
    assert sid is not None and zone.id is not None
    return BigSite(
        site_id=sid,
        door_ids=door_ids,
        team_rule_ids=rule_ids[:doors],
        zone_rule_id=rule_ids[doors],
        zone_id=zone.id,
        user_ids=user_ids,
    )


EVENT_COLUMNS = (
    "site_id",
    "door_id",
    "seq",
    "ts",
    "clock_set",
    "type",
    "result",
    "cred_hash",
    "credential_id",
    "user_id",
    "reason",
    "received_at",
)


def _event_rows(
    site: BigSite, count: int, start: int, span_s: int, seed: int
) -> Iterator[tuple[object, ...]]:
    """Granted 80% (a known user), denied 15% (unknown card), door_open 5%; seq increases per door."""
    rng = random.Random(seed)
    seqs = dict.fromkeys(site.door_ids, 0)
    step = span_s / count
    for index in range(count):
        door_id = rng.choice(site.door_ids)
        seqs[door_id] += 1
        ts = start + int(index * step)
        roll = rng.random()
        if roll < 0.80:
            holder = rng.choice(site.user_ids)
            row: tuple[str, str, str, int | None, int | None, str] = (
                "granted",
                "granted",
                f"{site.site_id:08x}{holder:024x}",
                holder,
                holder,
                "",
            )
        elif roll < 0.95:
            row = ("denied", "denied", f"{rng.getrandbits(128):032x}", None, None, "unknown_card")
        else:
            row = ("door_open", "info", "", None, None, "")
        kind, result, cred_hash, credential_id, user_id, reason = row
        yield (
            site.site_id,
            door_id,
            seqs[door_id],
            ts,
            True,
            kind,
            result,
            cred_hash,
            credential_id,
            user_id,
            reason,
            ts + 5,
        )


def insert_events(engine: Engine, site: BigSite, count: int, start: int, span_s: int, seed: int = 1) -> None:
    """Bulk-load `count` events in time order (credential_id equals user_id: one card per user)."""
    rows = _event_rows(site, count, start, span_s, seed)
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:  # type: ignore[attr-defined]
                with cursor.copy(f"COPY event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        return
    batch: list[dict[str, object]] = []
    with engine.begin() as connection:
        for row in rows:
            batch.append(dict(zip(EVENT_COLUMNS, row, strict=True)))
            if len(batch) == 50_000:
                connection.execute(insert(Event), batch)
                batch = []
        if batch:
            connection.execute(insert(Event), batch)
