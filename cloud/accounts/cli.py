"""`python -m cloud operators ...`: console accounts. Passwords are prompted (or read from stdin), never
taken from the command line (it shows in `ps` and shell history), never echoed or logged."""

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from sqlmodel import Session

from cloud.accounts import service
from cloud.accounts.models import ROLE_TITLES, OperatorAccount, OperatorAccountCreate
from cloud.accounts.passwords import PasswordPolicyError, Passwords
from cloud.accounts.sessions import end_sessions_of
from cloud.db import make_engine
from cloud.errors import ServiceError
from cloud.migrate import current_revision, head_revision, upgrade
from cloud.settings import Settings


class CommandError(Exception):
    """A refusal to print as `error: ...` with exit status 2."""


def _read_password(prompt_twice: bool) -> str:
    """From the terminal (not echoed, asked twice), or the first line of stdin when it is not a terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if prompt_twice and getpass.getpass("Repeat it: ") != password:
        raise CommandError("the two passwords differ")
    return password


@contextmanager
def _database() -> Iterator[Session]:
    settings = Settings()
    engine = make_engine(settings.database_url)
    if current_revision(engine) != head_revision():
        upgrade(engine)  # a fresh install: the first account is usually the first thing created
        print("database schema created/upgraded to head", file=sys.stderr)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _account(session: Session, username: str) -> OperatorAccount:
    account = service.find_account(session=session, username=username)
    if account is None:
        raise CommandError(f"no operator account {username!r} (see `python -m cloud operators list`)")
    return account


def _create(args: argparse.Namespace) -> None:
    try:
        account_in = OperatorAccountCreate(username=args.username, role=args.role, site_id=args.site_id)
    except ValidationError as error:
        raise CommandError("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in error.errors())) from None
    passwords = Passwords(Settings())
    with _database() as session:
        account = service.create_account(
            session=session, passwords=passwords, account_in=account_in, password=_read_password(True)
        )
        session.commit()
        scope = f"site {account.site_id}" if account.site_id is not None else "every site"
        print(f"operator account {account.id} {account.username!r}: {ROLE_TITLES[account.role]}, {scope}")


def _set_password(args: argparse.Namespace) -> None:
    passwords = Passwords(Settings())
    with _database() as session:
        account = _account(session, args.username)
        service.set_password(
            session=session, passwords=passwords, account=account, password=_read_password(True)
        )
        assert account.id is not None
        end_sessions_of(session=session, account_id=account.id)
        session.commit()
        print(f"password of {account.username!r} changed; its console sessions are signed out")


def _set_disabled(args: argparse.Namespace) -> None:
    with _database() as session:
        account = _account(session, args.username)
        service.set_disabled(session=session, account=account, disabled=args.disabled)
        session.commit()
        print(f"{account.username!r} {'disabled' if args.disabled else 'enabled'}")


def _list(_args: argparse.Namespace) -> None:
    with _database() as session:
        for account in service.list_accounts(session=session):
            scope = f"site {account.site_id}" if account.site_id is not None else "every site"
            state = "disabled" if account.disabled else "enabled"
            role = f"{account.role} ({ROLE_TITLES[account.role]})"
            print(f"{account.id}\t{account.username}\t{role}\t{scope}\t{state}")


def run(args: argparse.Namespace) -> int:
    try:
        args.operators_handler(args)
    except (CommandError, ServiceError, PasswordPolicyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    operators = commands.add_parser(
        "operators",
        help="web console accounts (username + password)",
        description="Accounts that sign in to the web console at /console. A password is asked twice on a "
        "terminal, or read as the first line of stdin (e.g. from a secrets manager); never give it as an "
        "argument.",
    )
    operators.set_defaults(handler=run)
    sub = operators.add_subparsers(dest="operators_command", required=True)

    create = sub.add_parser("create", help="create an account (migrates an empty database)")
    create.add_argument("--username", required=True, help="letters, digits and . _ @ - (case-insensitive)")
    create.add_argument(
        "--role",
        required=True,
        choices=("admin", "operator", "viewer"),
        help="admin = site admin, operator = manager (changes people, groups, rules), viewer = read only",
    )
    create.add_argument("--site-id", type=int, default=None, help="restrict the account to this site")
    create.set_defaults(operators_handler=_create)

    password = sub.add_parser("set-password", help="set a new password and sign the account out everywhere")
    password.add_argument("--username", required=True)
    password.set_defaults(operators_handler=_set_password)

    for name, disabled, what in (
        ("disable", True, "refuse the account's sign-ins and end its sessions' use"),
        ("enable", False, "allow a disabled account to sign in again"),
    ):
        toggle = sub.add_parser(name, help=what)
        toggle.add_argument("--username", required=True)
        toggle.set_defaults(operators_handler=_set_disabled, disabled=disabled)

    sub.add_parser("list", help="list accounts (never their passwords)").set_defaults(operators_handler=_list)
