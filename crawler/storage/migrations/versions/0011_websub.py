"""websub: the hubs feeds advertise and the service's subscriptions to them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.storage.models.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC_DATETIME = crawler.storage.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "websub_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("feed_url", sa.Text(), nullable=False),
        sa.Column("topic_url", sa.Text(), nullable=False),
        sa.Column("hub_url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=True),
        sa.Column("secret", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", UTC_DATETIME, nullable=True),
        sa.Column("due_at", UTC_DATETIME, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_push_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_websub_subscriptions_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_websub_subscriptions")),
        sa.UniqueConstraint(
            "source_id", "topic_url", "hub_url", name=op.f("uq_websub_subscriptions_source_id")
        ),
        sa.UniqueConstraint("token", name=op.f("uq_websub_subscriptions_token")),
    )
    op.create_index(
        op.f("ix_websub_subscriptions_source_id"),
        "websub_subscriptions",
        ["source_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_websub_subscriptions_due_at"), "websub_subscriptions", ["due_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_websub_subscriptions_due_at"), table_name="websub_subscriptions")
    op.drop_index(op.f("ix_websub_subscriptions_source_id"), table_name="websub_subscriptions")
    op.drop_table("websub_subscriptions")
