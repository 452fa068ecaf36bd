"""edit alerts: deliveries that tell of a later version of a matched article, and their watermark

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

A delivery was unique per match and channel; an edit goes to the same channel of the same
match once per version, so that constraint becomes a partial unique index over the
new-article deliveries (version_id IS NULL) and a unique constraint over the edits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

NEW_ARTICLE = sa.text("version_id IS NULL")


def upgrade() -> None:
    # NULL: edits were never looked at; the engine starts at its backfill horizon.
    with op.batch_alter_table("alert_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_version_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint(op.f("uq_alert_deliveries_match_id"), type_="unique")
        batch_op.create_foreign_key(
            op.f("fk_alert_deliveries_version_id_article_versions"),
            "article_versions",
            ["version_id"],
            ["id"],
        )
        batch_op.create_unique_constraint(
            op.f("uq_alert_deliveries_version_id"), ["version_id", "match_id", "channel"]
        )
        batch_op.create_index(
            batch_op.f("ix_alert_deliveries_version_id"), ["version_id"], unique=False
        )
    op.create_index(
        "uq_alert_deliveries_match_channel",
        "alert_deliveries",
        ["match_id", "channel"],
        unique=True,
        sqlite_where=NEW_ARTICLE,
        postgresql_where=NEW_ARTICLE,
    )


def downgrade() -> None:
    # Edit deliveries have no place in the older schema: they go with their attempts.
    op.execute(
        "DELETE FROM alert_attempts WHERE delivery_id IN "
        "(SELECT id FROM alert_deliveries WHERE version_id IS NOT NULL)"
    )
    op.execute("DELETE FROM alert_deliveries WHERE version_id IS NOT NULL")
    op.drop_index("uq_alert_deliveries_match_channel", table_name="alert_deliveries")
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_deliveries_version_id"))
        batch_op.drop_constraint(op.f("uq_alert_deliveries_version_id"), type_="unique")
        batch_op.drop_constraint(
            op.f("fk_alert_deliveries_version_id_article_versions"), type_="foreignkey"
        )
        batch_op.drop_column("version_id")
        batch_op.create_unique_constraint(
            op.f("uq_alert_deliveries_match_id"), ["match_id", "channel"]
        )
    with op.batch_alter_table("alert_state", schema=None) as batch_op:
        batch_op.drop_column("last_version_id")
