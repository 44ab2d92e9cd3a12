"""partial indexes: open leads by owner (routing loads) and unfinished outbox rows (leasing), so a cycle's reads
cost the open leads and the backlog, not every lead a rep ever had nor the outbox's whole history

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.and_(sa.column("converted").is_(False), sa.column("deleted").is_(False), sa.column("closed_at").is_(None))


_UNFINISHED = sa.text("status IN ('pending', 'retry', 'leased')")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_unfinished",
        "outbox",
        ["connection", "priority", "id"],
        unique=False,
        sqlite_where=_UNFINISHED,
        postgresql_where=_UNFINISHED,
    )
    op.create_index(
        "ix_leads_open_by_owner",
        "leads",
        ["connection", "owner_id"],
        unique=False,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_leads_open_by_owner", table_name="leads")
    op.drop_index("ix_outbox_unfinished", table_name="outbox")
