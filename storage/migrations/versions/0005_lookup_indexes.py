"""Indexes for the lookups that scanned whole tables: slugs case-insensitively (`/package`,
`/grid show`) and the subscriptions that follow a package or grid (every refresh batch).

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_packages_lower_slug", "packages", [sa.text("lower(slug)")])
    op.create_index("ix_grids_lower_slug", "grids", [sa.text("lower(slug)")])
    op.create_index(
        op.f("ix_subscriptions_target_kind_target_id"),
        "subscriptions",
        ["target_kind", "target_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_subscriptions_target_kind_target_id"), table_name="subscriptions")
    op.drop_index("ix_grids_lower_slug", table_name="grids")
    op.drop_index("ix_packages_lower_slug", table_name="packages")
