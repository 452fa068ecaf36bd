"""alerts: watermark, gaps, matches, deliveries, attempts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.storage.models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_gaps",
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "noticed_at", crawler.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_alert_gaps")),
    )
    op.create_table(
        "alert_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_article_id", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", crawler.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_state")),
    )
    op.create_table(
        "alert_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("snippets", sa.JSON(), nullable=False),
        sa.Column("title_highlights", sa.JSON(), nullable=False),
        sa.Column(
            "matched_at", crawler.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_alert_matches_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_alert_matches_story_id_stories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_matches")),
        sa.UniqueConstraint("rule", "story_id", name=op.f("uq_alert_matches_rule")),
    )
    with op.batch_alter_table("alert_matches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_matches_article_id"), ["article_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_alert_matches_matched_at"), ["matched_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alert_matches_story_id"), ["story_id"], unique=False)

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("due_at", crawler.storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "next_attempt_at",
            crawler.storage.models.base.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "claimed_until", crawler.storage.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", crawler.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "queued_at", crawler.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("sent_at", crawler.storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["alert_matches.id"],
            name=op.f("fk_alert_deliveries_match_id_alert_matches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint("match_id", "channel", name=op.f("uq_alert_deliveries_match_id")),
    )
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alert_deliveries_state_next", ["state", "next_attempt_at"], unique=False
        )

    op.create_table(
        "alert_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column(
            "attempted_at", crawler.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["alert_deliveries.id"],
            name=op.f("fk_alert_attempts_delivery_id_alert_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_attempts")),
    )
    with op.batch_alter_table("alert_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_attempts_delivery_id"), ["delivery_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("alert_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_attempts_delivery_id"))

    op.drop_table("alert_attempts")
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_deliveries_state_next")

    op.drop_table("alert_deliveries")
    with op.batch_alter_table("alert_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_matches_story_id"))
        batch_op.drop_index(batch_op.f("ix_alert_matches_matched_at"))
        batch_op.drop_index(batch_op.f("ix_alert_matches_article_id"))

    op.drop_table("alert_matches")
    op.drop_table("alert_state")
    op.drop_table("alert_gaps")
