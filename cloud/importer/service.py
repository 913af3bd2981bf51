"""Bulk CSV import of users, groups and credentials: every line checked, all or nothing.

Columns: type,external_id,name,email,group,kind,identifier,label
  group       name; label = description. An existing group of that name is reused.
  user        external_id, name, [email], [group: names separated by ';']. An existing external_id is
              updated (name, email) and joins the listed groups.
  credential  external_id (the user's), kind (felica | iso14443a), identifier (hex), [label].
              Phone credentials are issued one by one with POST /credentials (their token is shown once).
The whole file runs in one transaction; any refused line (or dry_run) rolls everything back.
"""

import csv
import io
from collections.abc import Callable

from sqlmodel import Session, select

from cloud.audit.service import record_change
from cloud.auth.operator import Operator
from cloud.crud.credentials import check_unique, credential_public, prepare_credential
from cloud.crud.scope import snapshot
from cloud.errors import Conflict, Invalid
from cloud.importer.models import MAX_IMPORT_LINES, ImportLineError, ImportReport
from cloud.models.credential import CredentialPublic
from cloud.models.site import Site
from cloud.models.user import Group, GroupMember, GroupPublic, User, UserPublic
from cloud.permissions.service import doors_of_group, doors_of_user, recompute_doors
from shared_schema.credentials import KIND_FELICA, KIND_ISO14443A

COLUMNS = ("type", "external_id", "name", "email", "group", "kind", "identifier", "label")
_LIMITS = {"external_id": 64, "name": 200, "email": 254, "label": 200, "identifier": 64}


class _Import:
    """State of one import run: the site, what was touched, and the report."""

    def __init__(self, *, session: Session, operator: Operator, site: Site, report: ImportReport) -> None:
        assert site.id is not None
        self.session, self.operator, self.site, self.site_id = session, operator, site, site.id
        self.report = report
        self.touched_groups: set[int] = set()
        self.created_users: set[int] = set()
        self.touched_existing_users: set[int] = set()

    def _audit(self, action: str, entity: str, entity_id: object, after: dict[str, object]) -> None:
        record_change(
            session=self.session,
            operator=self.operator,
            action=action,
            entity=entity,
            entity_id=entity_id,
            site_id=self.site_id,
            after=after,
        )

    def _find_user(self, external_id: str) -> User | None:
        return self.session.exec(
            select(User).where(User.site_id == self.site_id, User.external_id == external_id)
        ).first()

    def _find_group(self, name: str) -> Group | None:
        return self.session.exec(
            select(Group).where(Group.site_id == self.site_id, Group.name == name)
        ).first()

    def group_line(self, row: dict[str, str]) -> None:
        name = _required(row, "name")
        if self._find_group(name) is not None:
            return
        group = Group(site_id=self.site_id, name=name, description=row["label"])
        self.session.add(group)
        self.session.flush()
        self.report.groups_created += 1
        self._audit("import", "group", group.id, snapshot(GroupPublic, group, member_count=0))

    def user_line(self, row: dict[str, str]) -> None:
        external_id, name = _required(row, "external_id"), _required(row, "name")
        groups = []
        for group_name in filter(None, (part.strip() for part in row["group"].split(";"))):
            group = self._find_group(group_name)
            if group is None:
                raise Invalid("group", f"no group {group_name!r} (add a 'group' line before this one)")
            groups.append(group)
        user = self._find_user(external_id)
        created = user is None
        if user is None:
            user = User(site_id=self.site_id, external_id=external_id, name=name, email=row["email"] or None)
            self.report.users_created += 1
        else:
            user.name, user.email = name, row["email"] or user.email
            self.report.users_updated += 1
        self.session.add(user)
        self.session.flush()
        assert user.id is not None
        (self.created_users if created else self.touched_existing_users).add(user.id)
        self._audit("import", "user", user.id, snapshot(UserPublic, user))
        for group in groups:
            assert group.id is not None
            if self.session.get(GroupMember, (group.id, user.id)) is None:
                self.session.add(GroupMember(group_id=group.id, user_id=user.id))
                self.report.memberships_added += 1
                assert group.id is not None
                self.touched_groups.add(group.id)
        self.session.flush()

    def credential_line(self, row: dict[str, str]) -> None:
        external_id, kind = _required(row, "external_id"), _required(row, "kind")
        if kind not in (KIND_FELICA, KIND_ISO14443A):
            raise Invalid("kind", "kind must be felica or iso14443a (phones: POST /credentials)")
        user = self._find_user(external_id)
        if user is None:
            raise Invalid("external_id", f"no user {external_id!r} (add a 'user' line before this one)")
        assert user.id is not None
        prepared = prepare_credential(site=self.site, kind=kind, identifier=_required(row, "identifier"))
        try:
            check_unique(session=self.session, site_id=self.site_id, cred_hash=prepared.cred_hash)
        except Conflict as error:
            raise Invalid("identifier", str(error)) from None
        credential = prepared.stored(site_id=self.site_id, user_id=user.id, kind=kind, label=row["label"])
        self.session.add(credential)
        self.session.flush()
        self.report.credentials_created += 1
        assert user.id is not None
        if user.id not in self.created_users:
            self.touched_existing_users.add(user.id)
        self._audit(
            "import", "credential", credential.id, snapshot(CredentialPublic, credential_public(credential))
        )

    def affected_doors(self) -> set[int]:
        # New users reach doors only through the groups they joined; existing users also through
        # their own rules and their earlier groups.
        doors: set[int] = set()
        for group_id in self.touched_groups:
            doors |= doors_of_group(session=self.session, group_id=group_id)
        for user_id in self.touched_existing_users:
            doors |= doors_of_user(session=self.session, user_id=user_id)
        return doors


def _required(row: dict[str, str], field: str) -> str:
    value = row[field]
    if not value:
        raise Invalid(field, f"{field} is required on this line")
    return value


def _check_row(row: dict[str, str | None]) -> dict[str, str]:
    clean = {column: (row.get(column) or "").strip() for column in COLUMNS}
    if row.get(None):  # type: ignore[call-overload]
        raise Invalid("line", f"more fields than the {len(COLUMNS)} columns")
    for field, limit in _LIMITS.items():
        if len(clean[field]) > limit:
            raise Invalid(field, f"{field} is longer than {limit} characters")
    return clean


def _run_lines(
    reader: "csv.DictReader[str]", report: ImportReport, handlers: dict[str, Callable[[dict[str, str]], None]]
) -> None:
    for row in reader:
        report.lines += 1
        line = reader.line_num
        if report.lines > MAX_IMPORT_LINES:
            report.errors.append(
                ImportLineError(
                    line=line, field="line", message=f"more than {MAX_IMPORT_LINES} lines: split the file"
                )
            )
            break
        try:
            clean = _check_row(row)
            handler = handlers.get(clean["type"])
            if handler is None:
                raise Invalid("type", "type must be group, user or credential")
            # Every check of a line runs before its first write, so a refused line writes nothing.
            handler(clean)
        except Invalid as error:
            report.errors.append(ImportLineError(line=line, field=error.field, message=error.message))


def import_csv(*, session: Session, operator: Operator, site: Site, text: str, dry_run: bool) -> ImportReport:
    """Check and apply every line; leaves the session committed-ready only if applied is True.

    On any refused line, or in a dry run, the session is rolled back and nothing is written.
    """
    reader = csv.DictReader(io.StringIO(text))
    report = ImportReport(dry_run=dry_run, applied=False, lines=0)
    try:
        header = reader.fieldnames or []
    except csv.Error as error:
        report.errors.append(ImportLineError(line=1, field="header", message=f"not valid CSV: {error}"))
        return report
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        report.errors.append(
            ImportLineError(line=1, field="header", message=f"missing columns: {', '.join(missing)}")
        )
        return report
    run = _Import(session=session, operator=operator, site=site, report=report)
    handlers: dict[str, Callable[[dict[str, str]], None]] = {
        "group": run.group_line,
        "user": run.user_line,
        "credential": run.credential_line,
    }
    try:
        _run_lines(reader, report, handlers)
    except csv.Error as error:  # a malformed quote, a field over the csv module's size limit
        report.errors.append(
            ImportLineError(line=reader.line_num, field="line", message=f"not valid CSV: {error}")
        )
    if report.errors or dry_run:
        session.rollback()
        return report
    recompute_doors(session=session, door_ids=run.affected_doors())
    record_change(
        session=session,
        operator=operator,
        action="import",
        entity="site",
        entity_id=site.id,
        site_id=site.id,
        after=report.model_dump(exclude={"errors"}),
    )
    report.applied = True
    return report
