"""A fresh benchmark database (SQLite file, or a PostgreSQL database created and dropped),
and what it holds: rows and bytes per table and index, and PostgreSQL's commit counters."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text

from bench.proctree import processes_named
from crawler.storage.engine import open_engine

POSTGRES_ADMIN_URL = os.environ.get(
    "NEWSWATCH_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Snapshot:
    """What the database holds at one moment."""

    rows: dict[str, int]  # table -> rows
    data_bytes: dict[str, int]  # table -> bytes of the table itself (with TOAST)
    index_bytes: dict[str, int]  # table -> bytes of all its indexes
    total_bytes: int  # the file(s), or pg_database_size
    # PostgreSQL only: rows inserted, updated, deleted per table (pg_stat_user_tables)
    tuples: dict[str, tuple[int, int, int]] = field(default_factory=dict)


@dataclass
class BenchDatabase:
    kind: str  # sqlite | postgresql
    url: str
    name: str  # the file path, or the PostgreSQL database name

    def migrate(self) -> None:
        """Create the schema now, so the crawl's figures hold the crawl only."""
        open_engine(self.url).dispose()

    def engine(self) -> Engine:
        return open_engine(self.url, migrate_schema=False, create=False)

    def backends(self) -> list[int]:
        """Pids of the PostgreSQL server processes serving this database (none for SQLite)."""
        if self.kind != "postgresql":
            return []
        return processes_named(f" {self.name} ")

    def stored_and_failed(self) -> tuple[int, int]:
        engine = self.engine()
        try:
            with engine.connect() as connection:
                stored = connection.scalar(text("SELECT count(*) FROM articles"))
                failed = connection.scalar(text("SELECT count(*) FROM failures"))
        finally:
            engine.dispose()
        return stored, failed

    def mean_text_chars(self) -> float:
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return connection.scalar(text("SELECT avg(length(text)) FROM articles")) or 0.0
        finally:
            engine.dispose()

    def contents(self) -> Snapshot:
        """Rows and sizes (on PostgreSQL also the rows each table saw written, once every
        other backend of the database is gone and has reported them)."""
        if self.kind == "sqlite":
            return _sqlite_snapshot(Path(self.name), self._rows())
        _wait_idle(self.name)
        return _postgres_snapshot(self.url, self._rows())

    def commit_counters(self) -> tuple[int, int] | None:
        """PostgreSQL's xact_commit and xact_rollback for this database (None on SQLite).

        Our own connections count too: before a crawl read these after contents(), and
        after a crawl before it, so that only the crawl's transactions fall between.
        """
        if self.kind != "postgresql":
            return None
        return _settled_commits(self.name)

    def _rows(self) -> dict[str, int]:
        engine = self.engine()
        try:
            with engine.connect() as connection:
                virtual = set()  # SQLite FTS5 tables: their rows live in their shadow tables
                if self.kind == "sqlite":
                    virtual = set(
                        connection.scalars(
                            text(
                                "SELECT name FROM sqlite_master "
                                "WHERE sql LIKE 'CREATE VIRTUAL TABLE%'"
                            )
                        )
                    )
                return {
                    table: connection.scalar(text(f'SELECT count(*) FROM "{table}"'))
                    for table in inspect(connection).get_table_names()
                    if table not in virtual
                }
        finally:
            engine.dispose()


@contextlib.contextmanager
def fresh_database(kind: str, scratch: Path, label: str) -> Iterator[BenchDatabase]:
    """An empty database of `kind`, with the schema; a PostgreSQL one is dropped afterwards."""
    if kind == "sqlite":
        path = scratch / f"{label}.db"
        database = BenchDatabase(kind, f"sqlite:///{path}", str(path))
        database.migrate()
        yield database
        return
    name = f"newswatch_bench_{label}_{uuid.uuid4().hex[:8]}".replace("-", "_")
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        database = BenchDatabase(kind, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name)
        database.migrate()
        yield database
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _sqlite_snapshot(path: Path, rows: dict[str, int]) -> Snapshot:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page into the main file
        owner = dict(
            db.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"
            ).fetchall()
        )
        tables = set(db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall())
        tables = {name for (name,) in tables}
        data, indexes = dict.fromkeys(tables, 0), dict.fromkeys(tables, 0)
        for name, size in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            bucket = data if name in tables else indexes
            bucket[table] = bucket.get(table, 0) + size
    files = [path, path.with_name(path.name + "-wal")]
    total = sum(f.stat().st_size for f in files if f.exists())
    return Snapshot(rows, data, indexes, total)


def _postgres_snapshot(url: str, rows: dict[str, int]) -> Snapshot:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            sizes = connection.execute(
                text(
                    "SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid) "
                    "FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind = 'r'"
                )
            ).all()
            tuples = connection.execute(
                text("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables")
            ).all()
            total = connection.scalar(text("SELECT pg_database_size(current_database())"))
    finally:
        engine.dispose()
    return Snapshot(
        rows,
        {name: heap for name, heap, _ in sizes},
        {name: index for name, _, index in sizes},
        total,
        tuples={name: (ins, upd, dele) for name, ins, upd, dele in tuples},
    )


def _settled_commits(name: str, timeout: float = 30.0) -> tuple[int, int]:
    """xact_commit and xact_rollback of database `name`, once no backend serves it.

    A backend reports its counters lazily (at most once a second while busy) and
    always when it exits, so once every backend of the database has gone the
    counters are complete. Read from the maintenance database, whose reading
    counts nothing against `name`.
    """
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            _wait_idle(name, connection, timeout)
            with contextlib.suppress(Exception):  # PostgreSQL 15+: this backend's own pending
                connection.execute(text("SELECT pg_stat_force_next_flush()"))
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            commits, rollbacks = connection.execute(
                text("SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = :n"),
                {"n": name},
            ).one()
    finally:
        admin.dispose()
    return commits, rollbacks


def _wait_idle(name: str, connection=None, timeout: float = 30.0) -> None:
    """Wait until no backend serves database `name` (each reports its counters on exit)."""
    if connection is None:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as own:
                _wait_idle(name, own, timeout)
        finally:
            admin.dispose()
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
        )
        if not busy:
            return
        time.sleep(0.1)
