"""Builds a large site straight through bulk inserts: N users (one card each) x D doors.

Shape: every user is in one of D "team" groups (team d -> door d), and every user is also in an
"everyone" group whose rule targets a zone of the first ZONE_DOORS doors. Shared by the scale test and
the benchmark (tools/bench_cloud.py).
"""

import secrets
from dataclasses import dataclass

from sqlalchemy import insert
from sqlmodel import Session, col, select

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


def build_big_site(session: Session, users: int, doors: int) -> BigSite:
    site = Site(name="Big", timezone="Asia/Tokyo", site_key=secrets.token_hex(32))
    session.add(site)
    session.flush()
    sid = site.id
    session.execute(
        insert(Door),
        [
            {
                "site_id": sid,
                "name": f"Door {d}",
                "device_id": f"big-{sid}-{d}",
                "device_secret": "00" * 32,
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
    door_ids = list(session.exec(select(Door.id).where(Door.site_id == sid).order_by(col(Door.id))).all())
    session.execute(
        insert(User),
        [{"site_id": sid, "name": f"User {u}", "status": "active", "created_at": 0} for u in range(users)],
    )
    user_ids = list(session.exec(select(User.id).where(User.site_id == sid).order_by(col(User.id))).all())
    session.execute(
        insert(Credential),
        [
            {
                "site_id": sid,
                "user_id": uid,
                "kind": "felica",
                "identifier": f"{uid:016x}",
                "cred_hash": f"{sid:08x}{uid:024x}",
                "assurance": "low",
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
    group_ids = list(session.exec(select(Group.id).where(Group.site_id == sid).order_by(col(Group.id))).all())
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
    rule_ids = list(
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
