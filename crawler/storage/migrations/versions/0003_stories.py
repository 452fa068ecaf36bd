"""stories: near-duplicate band keys, evidence keys per article, evidence counts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.storage.models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
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

    op.create_table(
        "evidence_counts",
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("stories", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_evidence_counts")),
    )


def downgrade() -> None:
    op.drop_table("evidence_counts")
    with op.batch_alter_table("article_evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_article_evidence_key_dated")
    op.drop_table("article_evidence")
    op.drop_table("article_bands")
