"""versions: later versions of matched articles, and when each is fetched again

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.storage.models.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC_DATETIME = crawler.storage.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("seen_at", UTC_DATETIME, nullable=False),
        sa.Column("change", sa.String(length=12), nullable=False),
        sa.Column("changed", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("published_at", UTC_DATETIME, nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_versions_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_versions")),
        sa.UniqueConstraint("article_id", "number", name=op.f("uq_article_versions_article_id")),
    )
    op.create_index(
        op.f("ix_article_versions_article_id"), "article_versions", ["article_id"], unique=False
    )
    op.create_index(
        op.f("ix_article_versions_seen_at"), "article_versions", ["seen_at"], unique=False
    )
    op.create_table(
        "article_watch",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("next_check_at", UTC_DATETIME, nullable=True),
        sa.Column("checks_done", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_checked_at", UTC_DATETIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_watch_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_watch")),
    )
    op.create_index(
        op.f("ix_article_watch_next_check_at"), "article_watch", ["next_check_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_article_watch_next_check_at"), table_name="article_watch")
    op.drop_table("article_watch")
    op.drop_index(op.f("ix_article_versions_seen_at"), table_name="article_versions")
    op.drop_index(op.f("ix_article_versions_article_id"), table_name="article_versions")
    op.drop_table("article_versions")
