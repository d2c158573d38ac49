"""Exactly-once delivery: one outbox row per (channel, dedup key), and claims with a worker
identity and a lease instead of a postponed attempt time.

Revision ID: 0004
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0007"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint(op.f("uq_alerts_dedup_key"), type_="unique")
        batch.create_unique_constraint(
            op.f("uq_alerts_channel_id_dedup_key"), ["channel_id", "dedup_key"]
        )
        batch.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("lease_until", TIMESTAMP, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
        batch.drop_constraint(op.f("uq_alerts_channel_id_dedup_key"), type_="unique")
        batch.create_unique_constraint(op.f("uq_alerts_dedup_key"), ["dedup_key"])
