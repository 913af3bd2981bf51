"""Throwaway migrated databases, for the tests and the benchmarks.

SQLite: a file in a temporary folder. PostgreSQL: a fresh schema in the given database (so parallel runs
on one server do not collide), selected through the connection's search_path and dropped on exit.
"""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from cloud.db import make_engine
from cloud.migrate import upgrade


@contextmanager
def sqlite_database(revision: str = "head") -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/scratch.db")
        try:
            upgrade(engine, revision)
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_schema(url: str, prefix: str, revision: str = "head") -> Iterator[Engine]:
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine, revision)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def scratch_database(kind: str, postgres_url: str, prefix: str, revision: str = "head") -> Iterator[Engine]:
    """kind "sqlite" or "postgresql": an empty database migrated to `revision`, gone after the block."""
    if kind == "sqlite":
        with sqlite_database(revision) as engine:
            yield engine
    else:
        with postgres_schema(postgres_url, prefix, revision) as engine:
            yield engine
