"""capture: the published link beside its key, the link backlog, the shared robots.txt cache

Written by hand: renaming a column in batch mode would rebuild the articles table on SQLite
and drop the full-text triggers of 0005; both backends rename a column in place.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.storage.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_DATETIME = crawler.storage.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    # fetched_url always held the canonical form of the link, never what was fetched.
    op.drop_index("ix_articles_fetched_url", table_name="articles")
    op.execute("ALTER TABLE articles RENAME COLUMN fetched_url TO link_key")
    op.create_index("ix_articles_link_key", "articles", ["link_key"])
    op.add_column("articles", sa.Column("link_url", sa.Text(), nullable=True))
    op.add_column("articles", sa.Column("final_url", sa.Text(), nullable=True))
    op.add_column(
        "crawl_runs", sa.Column("waiting", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_table(
        "link_backlog",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("hints", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("found_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_link_backlog_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_link_backlog")),
    )
    op.create_index(
        "ix_link_backlog_due", "link_backlog", ["source_id", "state", "next_attempt_at"]
    )
    op.create_table(
        "robots_files",
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("read_at", UTC_DATETIME, nullable=True),
        sa.Column("expires_at", UTC_DATETIME, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("claimed_until", UTC_DATETIME, nullable=True),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_robots_files")),
    )


def downgrade() -> None:
    op.drop_table("robots_files")
    op.drop_index("ix_link_backlog_due", table_name="link_backlog")
    op.drop_table("link_backlog")
    op.drop_column("crawl_runs", "waiting")
    op.drop_column("articles", "final_url")
    op.drop_column("articles", "link_url")
    op.drop_index("ix_articles_link_key", table_name="articles")
    op.execute("ALTER TABLE articles RENAME COLUMN link_key TO fetched_url")
    op.create_index("ix_articles_fetched_url", "articles", ["fetched_url"])
