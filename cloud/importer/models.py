"""Bodies and answers of POST /import."""

from sqlmodel import SQLModel

from cloud.models.common import DbId

MAX_IMPORT_CHARS = 5_000_000
MAX_IMPORT_LINES = 20_000


# Body of POST /import: the CSV text (columns in docs/API.md); dry_run checks and reports, writes nothing.
class ImportRequest(SQLModel):
    csv: str
    dry_run: bool = False
    site_id: DbId | None = None


# One refused line (line numbers count the header as line 1).
class ImportLineError(SQLModel):
    line: int
    field: str
    message: str


# What the import did (or, for a dry run or a refused import, would have done).
class ImportReport(SQLModel):
    dry_run: bool
    applied: bool
    lines: int
    users_created: int = 0
    users_updated: int = 0
    groups_created: int = 0
    memberships_added: int = 0
    credentials_created: int = 0
    errors: list[ImportLineError] = []
