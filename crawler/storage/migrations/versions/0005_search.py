"""search: FTS5 table and triggers on SQLite, a tsvector GIN index on PostgreSQL

Written by hand: neither object has a model (see crawler/storage/search.py, whose
`include_name` keeps them out of autogenerate), and each backend gets its own.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# External content: the index stores no second copy of the text, only the tokens.
SQLITE_UPGRADE = [
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, lead, text,
        content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, lead, text)
        VALUES (new.id, new.title, new.lead, new.text);
    END""",
    """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, lead, text)
        VALUES ('delete', old.id, old.title, old.lead, old.text);
    END""",
    # Only when an indexed column changes: other updates (story moves) cost nothing here.
    """CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, lead, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, lead, text)
        VALUES ('delete', old.id, old.title, old.lead, old.text);
        INSERT INTO articles_fts(rowid, title, lead, text)
        VALUES (new.id, new.title, new.lead, new.text);
    END""",
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS articles_fts_update",
    "DROP TRIGGER IF EXISTS articles_fts_delete",
    "DROP TRIGGER IF EXISTS articles_fts_insert",
    "DROP TABLE IF EXISTS articles_fts",
]
# Must stay the expression crawler.storage.search.PG_DOCUMENT queries with.
POSTGRES_UPGRADE = [
    """CREATE INDEX ix_articles_search ON articles USING gin (
        to_tsvector('simple'::regconfig,
                    coalesce(title, '') || ' ' || coalesce(lead, '') || ' ' || text)
    )""",
]
POSTGRES_DOWNGRADE = ["DROP INDEX IF EXISTS ix_articles_search"]


def _run(statements: dict[str, list[str]]) -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in statements:
        raise NotImplementedError(f"no full-text search schema for {dialect}")
    for statement in statements[dialect]:
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRES_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRES_DOWNGRADE})
