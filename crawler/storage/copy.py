"""Copy every table of one database into another, empty one (SQLite → PostgreSQL, mostly)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, Integer, Table, func, insert, select
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table

from crawler.storage.models import Article, Base
from crawler.storage.search import SEARCH_TABLE
from crawler.storage.stories import TOKENS_TABLE

BATCH = 1000
# FTS5 tables with external content, rebuilt from their tables once copied
_FTS = [sql_table(name, sql_column(name)) for name in (SEARCH_TABLE, TOKENS_TABLE)]


def has_articles(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.scalar(select(Article.id).limit(1)) is not None


def copy_tables(
    source: Engine,
    target: Engine,
    *,
    batch: int = BATCH,
    on_table: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Copy each table's rows, parents before children; returns the row count per table.

    Both schemas must be at the newest migration. The target is written in one
    transaction, so a failed copy leaves it empty and the copy can simply be run again.
    """
    counts: dict[str, int] = {}
    # alembic_version is not a model, so sorted_tables never yields it: the target's
    # own migration already stamped it.
    with source.connect() as reading, target.begin() as writing:
        if source.dialect.name == "postgresql":
            # One snapshot for every table, so no child row points at a parent not copied.
            reading = reading.execution_options(isolation_level="REPEATABLE READ")
        for table in Base.metadata.sorted_tables:
            counts[table.name] = _copy_table(reading, writing, table, batch)
            if on_table:
                on_table(table.name, counts[table.name])
        if target.dialect.name == "postgresql":
            _reset_sequences(writing)
        elif target.dialect.name == "sqlite":
            # The insert triggers already indexed each row; a rebuild makes each index
            # exactly its table's content whatever the triggers did.
            # FTS5's command syntax: a row whose hidden column named like the table says what to do.
            for fts in _FTS:
                writing.execute(insert(fts).values({fts.name: "rebuild"}))
    return counts


def _copy_table(reading: Connection, writing: Connection, table: Table, batch: int) -> int:
    # Primary-key order: an article pointing at the article it copies comes after it,
    # which SQLite's row-by-row foreign key checks need.
    query = select(table).order_by(*table.primary_key.columns)
    result = reading.execution_options(yield_per=batch).execute(query)
    copied = 0
    for rows in result.partitions():
        writing.execute(insert(table), [row._asdict() for row in rows])
        copied += len(rows)
    return copied


def _reset_sequences(writing: Connection) -> None:
    """Point each id sequence past the copied ids, or the next insert would collide."""
    for table in Base.metadata.sorted_tables:
        column = table.c.get("id")
        if column is None or not column.primary_key or not isinstance(column.type, Integer):
            continue
        # setval is strict: an empty table (max NULL) or a column without a sequence
        # (pg_get_serial_sequence NULL) leaves things as they are.
        writing.execute(
            select(
                func.setval(
                    func.pg_get_serial_sequence(table.name, "id"),
                    select(func.max(column)).scalar_subquery(),
                )
            )
        )
