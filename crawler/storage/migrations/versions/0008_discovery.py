"""discovery: which way found each link (coverage), the feeds and sitemaps found for sites

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.storage.models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC_DATETIME = crawler.storage.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "link_sightings",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("way", sa.String(length=10), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_link_sightings_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("key", "way", name=op.f("pk_link_sightings")),
    )
    op.create_index("ix_link_sightings_seen", "link_sightings", ["first_seen_at"])
    op.create_table(
        "site_endpoints",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("how", sa.Text(), nullable=False),
        sa.Column("found_at", UTC_DATETIME, nullable=False),
        sa.Column("failures_in_row", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_site_endpoints_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("source_id", "url", name=op.f("pk_site_endpoints")),
    )


def downgrade() -> None:
    op.drop_table("site_endpoints")
    op.drop_index("ix_link_sightings_seen", table_name="link_sightings")
    op.drop_table("link_sightings")
