"""Alembic environment: uses the caller's connection (cloud.migrate) or DATABASE_URL."""

from alembic import context
from sqlmodel import SQLModel

import cloud.models  # noqa: F401  (registers every table on SQLModel.metadata)
from cloud.db import make_engine
from cloud.migrate import migration_connection
from cloud.settings import Settings

target_metadata = SQLModel.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(Settings().database_url)
    with migration_connection(engine) as own_connection:
        _run(own_connection)
