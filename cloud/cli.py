"""`python -m cloud`: serve the API, manage the schema, issue API keys, manage console accounts, deliver
webhooks."""

import argparse
import sys

from cloud.db import make_engine
from cloud.migrate import DatabaseNotMigrated, check_migrated, current_revision, head_revision, upgrade
from cloud.settings import Settings
from cloud.vault.master import MasterKeyError, create_master_key_file


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from cloud.main import create_app

    try:
        app = create_app()
    except (DatabaseNotMigrated, MasterKeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port)
    return 0


def _db_upgrade(_args: argparse.Namespace) -> int:
    engine = make_engine(Settings().database_url)
    before = current_revision(engine)
    try:
        upgrade(engine)
    except MasterKeyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"database at revision {current_revision(engine)} (was {before or 'empty'})")
    return 0


def _db_current(_args: argparse.Namespace) -> int:
    engine = make_engine(Settings().database_url)
    print(f"current: {current_revision(engine) or 'none'}  head: {head_revision()}")
    return 0


def _keys_create(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from cloud.auth.keys import create_api_key
    from cloud.errors import Invalid
    from cloud.models.api_key import ApiKeyCreate
    from cloud.models.site import Site

    engine = make_engine(Settings().database_url)
    if current_revision(engine) != head_revision():
        upgrade(engine)  # a fresh install: create the schema so the first key can be stored
        print("database schema created/upgraded to head", file=sys.stderr)
    with Session(engine) as session:
        if args.site is not None and session.get(Site, args.site) is None:
            print(f"error: no site {args.site} (create it with POST /api/v1/sites first)", file=sys.stderr)
            return 2
        if args.site is None and args.role not in ("admin", "integration"):
            print("error: a key without --site must have --role admin", file=sys.stderr)
            return 2
        key_in = ApiKeyCreate(
            name=args.name,
            role=args.role,
            site_id=args.site,
            scopes=args.scope or [],
            rate_limit_per_min=args.rate_limit,
        )
        try:
            record, key = create_api_key(session=session, key_in=key_in)
        except Invalid as error:
            print(f"error: {error.field}: {error.message}", file=sys.stderr)
            return 2
        session.commit()
        scope = f"site {args.site}" if args.site is not None else "all sites"
        print(f"API key {record.id} ({args.role}, {scope}). Shown once, store it now:", file=sys.stderr)
        print(key)
    return 0


def _keys_init_master(_args: argparse.Namespace) -> int:
    path = Settings().master_key_file
    try:
        create_master_key_file(path)
    except FileExistsError:
        print(
            f"error: {path} already exists: refusing to overwrite a master key (data sealed with it "
            "would be lost)",
            file=sys.stderr,
        )
        return 2
    print(f"master key written to {path} (mode 0600): back it up apart from the database", file=sys.stderr)
    return 0


def _broker_password_file(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sqlmodel import Session

    from cloud.lockkeys.broker import password_file_lines, write_password_file

    extra = Path(args.include).read_text(encoding="ascii").splitlines() if args.include else []
    with Session(make_engine(Settings().database_url)) as session:
        lines = [line for line in extra if line.strip()] + password_file_lines(session=session)
    count = write_password_file(Path(args.out), lines)
    print(f"{count} accounts written to {args.out}; reload the broker (SIGHUP) to apply", file=sys.stderr)
    return 0


def _webhooks(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    from cloud.integrations.webhooks.worker import DeliveryWorker
    from cloud.vault.master import install_master_key

    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        install_master_key(settings)  # endpoint secrets are sealed
        check_migrated(engine)
    except (DatabaseNotMigrated, MasterKeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    worker = DeliveryWorker(engine, settings)
    if args.once:
        report = worker.run_once()
        print(
            f"{report.delivered} delivered, {report.failed_attempts} failed attempts, "
            f"{report.given_up} given up ({report.endpoints} endpoints)",
            file=sys.stderr,
        )
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"delivering webhooks (worker {worker.owner}); Ctrl-C stops", file=sys.stderr)
    worker.run(stop, args.interval)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cloud",
        description="The smart-lock cloud service. "
        "DATABASE_URL selects the database (default sqlite:///./var/cloud.db).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the REST API (OpenAPI at /docs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="database schema (Alembic)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="migrate the schema to the latest revision").set_defaults(
        handler=_db_upgrade
    )
    db_commands.add_parser("current", help="show the schema revision").set_defaults(handler=_db_current)

    keys = commands.add_parser("keys", help="operators' API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser(
        "create", help="issue a key and print it once (migrates an empty database)"
    )
    create.add_argument("--role", required=True, choices=("admin", "operator", "viewer", "integration"))
    create.add_argument("--name", required=True, help="who or what uses the key")
    create.add_argument("--site", type=int, default=None, help="restrict the key to this site id")
    create.add_argument(
        "--scope",
        action="append",
        choices=("members", "verifications"),
        help="an integration key's scope (repeat for both); integration keys need --site and a scope",
    )
    create.add_argument(
        "--rate-limit", type=int, default=None, help="an integration key's requests per minute (default 120)"
    )
    create.set_defaults(handler=_keys_create)
    key_commands.add_parser(
        "init-master",
        help="create the master key file that seals site keys and device secrets "
        "(OPENAKERUN_MASTER_KEY_FILE, default var/master.key; mode 0600; never overwrites)",
    ).set_defaults(handler=_keys_init_master)

    broker = commands.add_parser("broker", help="the locks' MQTT broker accounts")
    broker_commands = broker.add_subparsers(dest="broker_command", required=True)
    password_file = broker_commands.add_parser(
        "password-file",
        help="write a Mosquitto password_file: one line per provisioned, not retired door (username = "
        "device id, $7$ PBKDF2-SHA512 hash); retired doors are left out",
    )
    password_file.add_argument("--out", required=True, help="file to replace (atomically, mode 0640)")
    password_file.add_argument(
        "--include", default=None, help="a mosquitto_passwd file copied first (the cloud's own account)"
    )
    password_file.set_defaults(handler=_broker_password_file)

    webhooks = commands.add_parser(
        "webhooks",
        help="deliver queued webhooks (signed, in order per endpoint, retried with backoff) until stopped",
    )
    webhooks.add_argument("--once", action="store_true", help="one pass over the due deliveries, then exit")
    webhooks.add_argument(
        "--interval", type=float, default=None, help="seconds between passes (WEBHOOK_POLL_INTERVAL_S)"
    )
    webhooks.set_defaults(handler=_webhooks)

    from cloud.accounts.cli import add_parser as add_operators_parser

    add_operators_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
