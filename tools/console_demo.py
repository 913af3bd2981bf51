"""A small demo site for the console's screenshots: doors in every status, people (some suspended), groups,
cards, rules, a few days of entries, and changes made both through an API key and a console account.

Everything goes through the same domain functions as the API (so the audit trail is real); the instants
are then pinned, so that screenshots regenerated later show the same page.
"""

from dataclasses import dataclass

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from cloud.accounts.models import OperatorAccountCreate
from cloud.accounts.passwords import Passwords
from cloud.accounts.service import create_account
from cloud.audit.models import AuditEntry
from cloud.auth.operator import Operator
from cloud.crud.credentials import create_credential
from cloud.crud.doors import create_door
from cloud.crud.groups import create_group
from cloud.crud.rules import create_rule
from cloud.crud.sites import create_site
from cloud.crud.users import create_user, update_user
from cloud.crud.zones import create_zone
from cloud.events.service import ingest_events
from cloud.models.credential import CredentialCreate
from cloud.models.door import Door, DoorCreate
from cloud.models.rule import AccessRuleCreate
from cloud.models.site import SiteCreate
from cloud.models.user import GroupCreate, User, UserCreate, UserUpdate
from cloud.models.zone import ZoneCreate
from cloud.settings import Settings

DEMO_PASSWORD = "demo password 2026"
# 2026-12-01 09:00 JST: the demo's "now".
NOW = 1_796_083_200
HOUR = 3600

PEOPLE = [
    ("山田 花子", "E1001", "hanako.yamada@example.jp"),
    ("佐藤 健", "E1002", "ken.sato@example.jp"),
    ("Alice Smith", "E1003", "alice@example.com"),
    ("鈴木 一郎", "E1004", "ichiro.suzuki@example.jp"),
    ("Bob Martin", "E1005", "bob@example.com"),
    ("高橋 さくら", "E1006", "sakura.takahashi@example.jp"),
    ("田中 翔", "E1007", "sho.tanaka@example.jp"),
    ("Chen Wei", "E1008", "chen.wei@example.com"),
    ("伊藤 美咲", "E1009", "misaki.ito@example.jp"),
    ("渡辺 大輔", "C2001", None),
]
# name, device id, online, hours since last seen (None: never), firmware, applied version behind by
DOORS = [
    ("正面玄関 Main entrance", "hq-main", True, 0, "1.4.2", 0),
    ("サーバー室 Server room", "hq-server", True, 0, "1.4.2", 1),
    ("通用口 Back door", "hq-back", False, 70, "1.3.9", 0),
    ("屋上 Roof", "hq-roof", False, None, "", 0),
]


@dataclass
class Demo:
    site_id: int
    person_id: int  # a person with groups, cards and entries
    group_id: int
    username: str
    password: str


def _pin_instants(session: Session, site_id: int) -> None:
    """Fixed instants instead of the clock's: same data, same screenshots."""
    entry_ids = session.exec(select(AuditEntry.id).order_by(col(AuditEntry.id))).all()
    for index, entry_id in enumerate(entry_ids):
        session.execute(
            update(AuditEntry).where(col(AuditEntry.id) == entry_id).values(at=NOW - 2 * HOUR + 97 * index)
        )
    session.execute(update(User).where(col(User.site_id) == site_id).values(created_at=NOW - 30 * 24 * HOUR))


def seed_demo(engine: Engine) -> Demo:
    settings = Settings()
    installer = Operator(key_id=1, name="installer", role="admin", site_id=None)
    with Session(engine) as session:
        site, _key = create_site(
            session=session, operator=installer, site_in=SiteCreate(name="Tokyo HQ", timezone="Asia/Tokyo")
        )
        assert site.id is not None
        account = create_account(
            session=session,
            passwords=Passwords(settings),
            account_in=OperatorAccountCreate(username="keiko", role="operator", site_id=site.id),
            password=DEMO_PASSWORD,
        )
        assert account.id is not None
        desk = Operator(key_id=None, name="keiko", role="operator", site_id=site.id, account_id=account.id)

        doors = []
        for name, device_id, *_ in DOORS:
            door, _secret = create_door(
                session=session,
                operator=installer,
                door_in=DoorCreate(name=name, device_id=device_id, site_id=site.id),
            )
            doors.append(door)
        zone = create_zone(
            session=session,
            operator=installer,
            zone_in=ZoneCreate(name="2F 開発フロア", site_id=site.id, door_ids=[doors[1].id or 0]),
        )
        people = [
            create_user(
                session=session,
                operator=installer,
                user_in=UserCreate(name=name, external_id=external_id, email=email, site_id=site.id),
            )
            for name, external_id, email in PEOPLE
        ]
        ids = [person.id or 0 for person in people]
        engineering = create_group(
            session=session,
            operator=installer,
            group_in=GroupCreate(
                name="開発部 Engineering", description="Builds things", site_id=site.id, user_ids=ids[:6]
            ),
        )
        night = create_group(
            session=session,
            operator=desk,
            group_in=GroupCreate(
                name="夜間 Night shift", description="22:00-06:00", site_id=site.id, user_ids=ids[5:8]
            ),
        )
        create_group(
            session=session,
            operator=desk,
            group_in=GroupCreate(
                name="清掃 Cleaning", description="Contractors", site_id=site.id, user_ids=[ids[9]]
            ),
        )
        cards = {}
        for index, person in enumerate(people[:8]):
            credential, _ = create_credential(
                session=session,
                operator=installer,
                site=site,
                credential_in=CredentialCreate(
                    user_id=person.id or 0, kind="felica", identifier=f"0127{index + 1:012x}", label="社員証"
                ),
            )
            cards[person.id] = credential.cred_hash
        create_credential(
            session=session,
            operator=installer,
            site=site,
            credential_in=CredentialCreate(user_id=ids[0], kind="phone", label="iPhone"),
        )
        create_rule(
            session=session,
            operator=installer,
            rule_in=AccessRuleCreate(
                group_id=engineering.id, door_id=doors[0].id, site_id=site.id, name="平日"
            ),
        )
        create_rule(
            session=session,
            operator=desk,
            rule_in=AccessRuleCreate(
                group_id=engineering.id, zone_id=zone.id, site_id=site.id, windows=[[31, 540, 1260]]
            ),
        )
        create_rule(
            session=session,
            operator=desk,
            rule_in=AccessRuleCreate(
                group_id=night.id, door_id=doors[2].id, site_id=site.id, windows=[[127, 1320, 360]]
            ),
        )
        update_user(session=session, operator=desk, user=people[4], user_in=UserUpdate(status="suspended"))
        update_user(
            session=session, operator=desk, user=people[9], user_in=UserUpdate(email="daisuke.w@example.jp")
        )

        _door_status(session, doors)
        _entries(session, doors, people, cards)
        _pin_instants(session, site.id)
        session.commit()
        return Demo(
            site_id=site.id,
            person_id=ids[0],
            group_id=engineering.id or 0,
            username="keiko",
            password=DEMO_PASSWORD,
        )


def _door_status(session: Session, doors: list[Door]) -> None:
    """What the MQTT sync would have stored from each lock's reports."""
    from cloud.crud.doors import door_public

    for door, (_, _, online, hours, firmware, behind) in zip(doors, DOORS, strict=True):
        current = door_public(session=session, door=door).permission_version
        door.online = online
        door.last_seen = 0 if hours is None else NOW - hours * HOUR - 42
        door.firmware_version = firmware
        door.applied_permission_version = 0 if hours is None else current - behind
        session.add(door)
    session.flush()


def _entries(session: Session, doors: list[Door], people: list[User], cards: dict[int | None, str]) -> None:
    """Three days of taps: granted ones, denials of the suspended person, an unknown card, a held door."""
    plan = []
    for day in range(3):
        morning = NOW - day * 24 * HOUR
        for index, person in enumerate(people[:8]):
            door = doors[1] if index % 3 == 0 else doors[0]
            kind = "denied" if person.status == "suspended" else "granted"
            plan.append(
                (
                    door,
                    morning - 40 * 60 + index * 173,
                    kind,
                    cards[person.id],
                    "" if kind == "granted" else "suspended",
                )
            )
    plan.append((doors[0], NOW - 3 * HOUR, "denied", "ab" * 16, "unknown"))
    plan.append((doors[2], NOW - 70 * HOUR - 600, "held_open", "", "open 120 s"))
    for door in doors:
        batch = [
            [seq + 1, ts, kind, cred, reason]
            for seq, (d, ts, kind, cred, reason) in enumerate(p for p in plan if p[0] is door)
        ]
        if batch:
            ingest_events(session=session, door=door, events=batch, received_at=NOW)
