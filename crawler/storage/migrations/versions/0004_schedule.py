"""schedule: per-source poll schedule and health state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.storage.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_DATETIME = crawler.storage.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "source_schedule",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=True),
        sa.Column("next_due_at", UTC_DATETIME, nullable=True),
        sa.Column("last_run_at", UTC_DATETIME, nullable=True),
        sa.Column("last_new_at", UTC_DATETIME, nullable=True),
        sa.Column("rhythm_seconds", sa.Float(), nullable=True),
        sa.Column("failures_in_row", sa.Integer(), nullable=False),
        sa.Column("retry_after_until", UTC_DATETIME, nullable=True),
        sa.Column("health", sa.String(length=20), nullable=False),
        sa.Column("health_since", UTC_DATETIME, nullable=True),
        sa.Column("health_detail", sa.Text(), nullable=True),
        sa.Column("announced", sa.String(length=20), nullable=False),
        sa.Column("announced_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_source_schedule_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_source_schedule")),
    )


def downgrade() -> None:
    op.drop_table("source_schedule")
