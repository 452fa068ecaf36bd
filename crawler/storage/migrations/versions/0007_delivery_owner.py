"""delivery owner: who holds a delivery's claim, so that its own host can take it back at once

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Claims taken before this have no owner and run out with their lease, as before.
    op.add_column("alert_deliveries", sa.Column("claimed_by", sa.String(length=160), nullable=True))


def downgrade() -> None:
    op.drop_column("alert_deliveries", "claimed_by")  # in place on both backends, as 0006
