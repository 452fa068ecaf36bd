"""captures: the page each stored article came from, as served (evidence)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.storage.models.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UTC_DATETIME = crawler.storage.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "page_captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("fetched_at", UTC_DATETIME, nullable=False),
        sa.Column("requested_url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("compression", sa.String(length=10), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("body_size", sa.Integer(), nullable=False),
        sa.Column("extractor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_page_captures_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_captures")),
        sa.UniqueConstraint("article_id", name=op.f("uq_page_captures_article_id")),
    )
    op.create_index(
        op.f("ix_page_captures_fetched_at"), "page_captures", ["fetched_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_page_captures_fetched_at"), table_name="page_captures")
    op.drop_table("page_captures")
