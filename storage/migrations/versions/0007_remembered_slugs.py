"""Remember the slug an import named a subscription's target (or a marked package) by.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("target_slug", sa.String(), nullable=True))
    with op.batch_alter_table("feature_complete") as batch:
        batch.add_column(sa.Column("package_slug", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feature_complete") as batch:
        batch.drop_column("package_slug")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("target_slug")
