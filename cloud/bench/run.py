"""Cloud benchmarks (figures, not tests): permission recompute at 10k users x 100 doors, and the event
queries at 1M events, on SQLite and PostgreSQL. Prints a Markdown table for docs/BENCHMARKS.md.

    .venv/bin/python tools/bench_cloud.py [--db sqlite|postgresql|both] [--events 1000000]
"""

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from cloud.auth.keys import create_api_key
from cloud.auth.operator import Operator
from cloud.bench.data import BigSite, build_big_site, insert_events
from cloud.crud.rules import update_rule
from cloud.crud.users import update_user
from cloud.main import create_app
from cloud.models.api_key import ApiKeyCreate
from cloud.models.rule import AccessRule, AccessRuleUpdate
from cloud.models.user import User, UserUpdate
from cloud.permissions.service import recompute_doors
from cloud.scratch import scratch_database
from cloud.settings import Settings

POSTGRES_URL = os.environ.get("CLOUD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START = 1_790_000_000  # events span the 30 days from here
SPAN_S = 30 * 86400
ACTOR = Operator(key_id=0, name="bench", role="admin", site_id=None)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def median_ms(action: Callable[[], Any], repeat: int) -> float:
    action()  # warm-up (caches, prepared plans)
    return statistics.median(timed(action)[0] for _ in range(repeat))


def bench_recompute(
    engine: Engine, users: int, doors: int, repeat: int
) -> tuple[BigSite, list[tuple[str, str]]]:
    rows = []
    with Session(engine) as session:
        ms, site = timed(lambda: build_big_site(session, users, doors))
        session.commit()
        rows.append((f"build {users} users / {doors} doors (bulk insert)", f"{ms:.0f} ms"))
        # Statistics, as autovacuum would gather them on a live database; without them PostgreSQL plans
        # the grant joins as if the tables were empty.
        session.execute(text("ANALYZE"))
        session.commit()

        def rebuild_all() -> None:
            recompute_doors(session=session, door_ids=site.door_ids)
            session.commit()

        ms, _ = timed(rebuild_all)
        rows.append((f"full rebuild of all {doors} doors (what a change must NOT do)", f"{ms:.0f} ms"))

        def change_rule(rule_id: int) -> Callable[[], Any]:
            flip = iter(range(10**6))

            def run() -> Any:
                rule = session.get(AccessRule, rule_id)
                assert rule is not None
                report = update_rule(
                    session=session,
                    operator=ACTOR,
                    rule=rule,
                    rule_in=AccessRuleUpdate(windows=[[31, 480 + next(flip) % 2, 1200]]),
                )
                session.commit()
                return report

            return run

        team = change_rule(site.team_rule_ids[len(site.team_rule_ids) // 2])
        report = team()
        rows.append(
            (
                f"one team rule change: {len(report.recomputed)} door, {users // doors} users",
                f"{median_ms(team, repeat):.1f} ms",
            )
        )
        zone = change_rule(site.zone_rule_id)
        report = zone()
        rows.append(
            (
                f"one zone rule change: {len(report.recomputed)} doors x {users} users",
                f"{median_ms(zone, repeat):.0f} ms",
            )
        )

        def suspend_toggle() -> None:
            user = session.get(User, site.user_ids[7])
            assert user is not None
            change = UserUpdate(status="active" if user.status == "suspended" else "suspended")
            update_user(session=session, operator=ACTOR, user=user, user_in=change)
            session.commit()

        rows.append(("suspend/reactivate one user (3 doors)", f"{median_ms(suspend_toggle, repeat):.0f} ms"))
    return site, rows


def bench_events(engine: Engine, site: BigSite, events: int, repeat: int) -> list[tuple[str, str]]:
    rows = []
    ms, _ = timed(lambda: insert_events(engine, site, events, START, SPAN_S))
    how = "COPY" if engine.dialect.name == "postgresql" else "executemany, 50k rows per batch"
    rows.append((f"load {events:,} events ({how}), indexes in place", f"{ms / 1000:.1f} s"))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    with Session(engine) as session:
        _, key = create_api_key(
            session=session, key_in=ApiKeyCreate(name="bench", role="admin", site_id=None)
        )
        session.commit()
    app = create_app(Settings(), engine=engine)
    headers = {"Authorization": f"Bearer {key}"}
    door, user, zone = site.door_ids[0], site.user_ids[123], site.zone_id
    day = START + 15 * 86400
    with TestClient(app) as client:

        def get(path: str, **params: Any) -> Callable[[], Any]:
            def run() -> Any:
                response = client.get("/api/v1" + path, params=params, headers=headers)
                assert response.status_code == 200, response.text
                return response

            return run

        deep = {"door_id": door, "limit": 50}
        for _ in range(20):
            deep["cursor"] = get("/events", **deep)().json()["next_cursor"]
        queries = [
            ("GET /events (site, newest 50)", get("/events", limit=50)),
            ("GET /events?door_id (newest 50)", get("/events", door_id=door, limit=50)),
            ("GET /events?door_id, page 21 via cursor", get("/events", **deep)),
            ("GET /events?user_id (newest 50)", get("/events", user_id=user, limit=50)),
            (
                "GET /events?zone_id&since&until (1 day)",
                get("/events", zone_id=zone, since=day, until=day + 86400, limit=50),
            ),
            ("GET /events?result=denied (newest 50)", get("/events", result="denied", limit=50)),
            ("GET /zones/{id}/presence, 1 hour", get(f"/zones/{zone}/presence", since=day, until=day + 3600)),
            ("GET /zones/{id}/presence, 1 day", get(f"/zones/{zone}/presence", since=day, until=day + 86400)),
            (
                "GET /events/export.csv?door_id, 1 day",
                get("/events/export.csv", door_id=door, since=day, until=day + 86400),
            ),
        ]
        for label, action in queries:
            rows.append((label, f"{median_ms(action, repeat):.1f} ms"))
        presence = get(f"/zones/{zone}/presence", since=day, until=day + 86400)().json()
        rows.append(
            (
                "  (presence 1 day: people / entries)",
                f"{presence['count']} / {sum(len(p['entries']) for p in presence['people'])}",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--doors", type=int, default=100)
    parser.add_argument("--events", type=int, default=1_000_000, help="0 skips the event benchmarks")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (median reported)")
    args = parser.parse_args(argv)
    # Throwaway databases: a throwaway master key (for this process), so the benchmark needs no key file.
    os.environ.setdefault("OPENAKERUN_MASTER_KEY", os.urandom(32).hex())
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        with scratch_database(kind, POSTGRES_URL, "cloudbench") as engine:
            site, rows = bench_recompute(engine, args.users, args.doors, args.repeat)
            if args.events:
                rows += bench_events(engine, site, args.events, args.repeat)
        print(f"\n#### {kind}\n\n| measurement | median |\n|---|---|")
        for label, figure in rows:
            print(f"| {label} | {figure} |")
    return 0
