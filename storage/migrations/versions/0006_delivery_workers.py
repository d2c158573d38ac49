"""The registry of live delivery workers, who share Discord's global request budget.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "delivery_workers",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_delivery_workers")),
    )
    op.create_index(op.f("ix_delivery_workers_heartbeat_at"), "delivery_workers", ["heartbeat_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_delivery_workers_heartbeat_at"), table_name="delivery_workers")
    op.drop_table("delivery_workers")
