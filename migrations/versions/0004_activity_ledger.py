"""activity ledger: HubSpot activity creates stay exactly-once across restarts (crmsync.crm.ledger)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_ledger",
        sa.Column("connection", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("crm_id", sa.String(length=64), nullable=True),
        sa.Column("begun_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("connection", "key", name=op.f("pk_activity_ledger")),
    )


def downgrade() -> None:
    op.drop_table("activity_ledger")
