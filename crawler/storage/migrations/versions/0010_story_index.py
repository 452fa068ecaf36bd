"""story index: one row per article instead of a row per band key and per evidence key

article_bands (42 rows an article) and article_evidence (one row per evidence key) become
story_index: one row holding the band keys and evidence tokens per cell of time (an inverted
index over them: GIN on PostgreSQL, an FTS5 table on SQLite) and the evidence keys as
text. evidence_counts keeps only keys counted in more than one story. Existing rows move
into the new shape; the downgrade moves them back (and recounts the single-story keys).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

import crawler.storage.models.base
import crawler.storage.models.stories

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 1000
# Frozen here as crawler.storage.stories spelled them at 0010: tokens already stored
# must keep meaning the same keys.
CELL_SECONDS = 96 * 3600

SQLITE_UPGRADE = [
    # External content: the tokens are stored once, in story_index; FTS5 keeps the index.
    """CREATE VIRTUAL TABLE story_tokens USING fts5(
        tokens, content='story_index', content_rowid='article_id',
        tokenize='ascii', detail=none, columnsize=0
    )""",
    """CREATE TRIGGER story_tokens_insert AFTER INSERT ON story_index BEGIN
        INSERT INTO story_tokens(rowid, tokens) VALUES (new.article_id, new.tokens);
    END""",
    """CREATE TRIGGER story_tokens_delete AFTER DELETE ON story_index BEGIN
        INSERT INTO story_tokens(story_tokens, rowid, tokens)
        VALUES ('delete', old.article_id, old.tokens);
    END""",
    # built once the moved rows are in, like PostgreSQL's index
    "INSERT INTO story_tokens(story_tokens) VALUES ('rebuild')",
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS story_tokens_delete",
    "DROP TRIGGER IF EXISTS story_tokens_insert",
    "DROP TABLE IF EXISTS story_tokens",
]
POSTGRES_UPGRADE = ["CREATE INDEX ix_story_index_tokens ON story_index USING gin (tokens)"]
POSTGRES_DOWNGRADE = ["DROP INDEX IF EXISTS ix_story_index_tokens"]

_articles = sa.table(
    "articles",
    sa.column("id", sa.Integer),
    sa.column("story_id", sa.Integer),
    sa.column("published_at", crawler.storage.models.base.UTCDateTime()),
    sa.column("fetched_at", crawler.storage.models.base.UTCDateTime()),
)
_bands = sa.table("article_bands", sa.column("key", sa.BigInteger), sa.column("article_id"))
_evidence = sa.table(
    "article_evidence",
    sa.column("article_id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("story_id", sa.Integer),
    sa.column("dated_at", crawler.storage.models.base.UTCDateTime()),
)
_index = sa.table(
    "story_index",
    sa.column("article_id", sa.Integer),
    sa.column("story_id", sa.Integer),
    sa.column("dated_at", crawler.storage.models.base.UTCDateTime()),
    sa.column("tokens", crawler.storage.models.stories.Tokens()),
    sa.column("evidence", sa.Text),
)
_counts = sa.table("evidence_counts", sa.column("key", sa.String), sa.column("stories"))


def _tokens(dated_at, keys: list[str]) -> list[int]:
    """Each key's token in the article's cell of time and in the neighbour nearer to it."""
    cell, offset = divmod(int(dated_at.timestamp()), CELL_SECONDS)
    cells = (cell, cell - 1 if offset < CELL_SECONDS // 2 else cell + 1)
    return [
        int.from_bytes(hashlib.blake2b(f"{c}\n{key}".encode(), digest_size=8).digest())
        & 0x7FFF_FFFF_FFFF_FFFF
        for key in keys
        for c in cells
    ]


def _run(statements: dict[str, list[str]]) -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in statements:
        raise NotImplementedError(f"no story token index for {dialect}")
    for statement in statements[dialect]:
        op.execute(statement)


def _articles_after(bind, after: int) -> list:
    """The next batch of articles, in id order."""
    dated = sa.func.coalesce(_articles.c.published_at, _articles.c.fetched_at)
    return bind.execute(
        sa.select(_articles.c.id, _articles.c.story_id, dated.label("dated"))
        .where(_articles.c.id > after)
        .order_by(_articles.c.id)
        .limit(BATCH)
    ).all()


def _grouped(bind, column, article_ids: list[int]) -> dict[int, list]:
    table = column.table
    found: dict[int, list] = defaultdict(list)
    for article_id, value in bind.execute(
        sa.select(table.c.article_id, column)
        .where(table.c.article_id.in_(article_ids))
        .order_by(table.c.article_id, column)
    ):
        found[article_id].append(value)
    return found


def _move_into_index(bind) -> None:
    # article_bands is keyed by band first: each batch would scan it whole without this
    op.create_index("ix_article_bands_article_id", "article_bands", ["article_id"])
    after = 0
    while batch := _articles_after(bind, after):
        ids = [row.id for row in batch]
        bands, keys = _grouped(bind, _bands.c.key, ids), _grouped(bind, _evidence.c.key, ids)
        # The index row is dated like the evidence rows were (the article's own date).
        dated = dict(
            bind.execute(
                sa.select(_evidence.c.article_id, sa.func.min(_evidence.c.dated_at))
                .where(_evidence.c.article_id.in_(ids))
                .group_by(_evidence.c.article_id)
            ).all()
        )
        rows = []
        for row in batch:
            if row.id not in bands and row.id not in keys:
                continue  # stored without text to index
            when = dated.get(row.id) or row.dated
            evidence = keys.get(row.id, [])
            tokens = bands.get(row.id, []) + _tokens(when, evidence)
            rows.append(
                {
                    "article_id": row.id,
                    "story_id": row.story_id,
                    "dated_at": when,
                    "tokens": tokens,
                    "evidence": "\n".join(evidence),
                }
            )
        if rows:
            bind.execute(sa.insert(_index), rows)
        after = ids[-1]


def upgrade() -> None:
    op.create_table(
        "story_index",
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column(
            "dated_at", crawler.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("tokens", crawler.storage.models.stories.Tokens(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_story_index_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_story_index")),
    )
    bind = op.get_bind()
    _move_into_index(bind)
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRES_UPGRADE})
    # A key of one story is never common: only keys of several stories keep a count.
    bind.execute(sa.delete(_counts).where(_counts.c.stories <= 1))
    with op.batch_alter_table("article_evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_article_evidence_key_dated")
    op.drop_table("article_evidence")
    op.drop_table("article_bands")


def downgrade() -> None:
    op.create_table(
        "article_bands",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_bands_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("key", "article_id", name=op.f("pk_article_bands")),
    )
    op.create_table(
        "article_evidence",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column(
            "dated_at", crawler.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_evidence_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("article_id", "key", name=op.f("pk_article_evidence")),
    )
    with op.batch_alter_table("article_evidence", schema=None) as batch_op:
        batch_op.create_index(
            "ix_article_evidence_key_dated",
            ["key", "dated_at", "story_id", "article_id"],
            unique=False,
        )
    bind = op.get_bind()
    after = 0
    while batch := bind.execute(
        sa.select(_index)
        .where(_index.c.article_id > after)
        .order_by(_index.c.article_id)
        .limit(BATCH)
    ).all():
        bands, evidence = [], []
        for row in batch:
            keys = row.evidence.split("\n") if row.evidence else []
            own = set(_tokens(row.dated_at, keys))
            bands += [
                {"key": key, "article_id": row.article_id} for key in row.tokens if key not in own
            ]
            evidence += [
                {
                    "article_id": row.article_id,
                    "key": key,
                    "story_id": row.story_id,
                    "dated_at": row.dated_at,
                }
                for key in keys
            ]
        if bands:
            bind.execute(sa.insert(_bands), bands)
        if evidence:
            bind.execute(sa.insert(_evidence), evidence)
        after = batch[-1].article_id
    # Keys of a single story had no count: count them again from the evidence rows.
    bind.execute(
        sa.insert(_counts).from_select(
            ["key", "stories"],
            sa.select(_evidence.c.key, sa.func.count(sa.distinct(_evidence.c.story_id)))
            .where(~sa.exists().where(_counts.c.key == _evidence.c.key))
            .group_by(_evidence.c.key),
        )
    )
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRES_DOWNGRADE})
    op.drop_table("story_index")
