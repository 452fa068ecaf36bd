"""drop rhythm: source_schedule.rhythm_seconds was written after every run and never read

The publishing rhythm is computed afresh from the source's article dates at each run
(newswatch.scheduling.polling), so nothing is lost. Batch mode: SQLite rebuilds the table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_schedule", schema=None) as batch_op:
        batch_op.drop_column("rhythm_seconds")


def downgrade() -> None:
    # Empty again: the next run of each source would have filled it in.
    with op.batch_alter_table("source_schedule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rhythm_seconds", sa.Float(), nullable=True))
