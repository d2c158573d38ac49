"""This installation's secret, which signs its exports so an import can tell them apart.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    installation = op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )
    # Drawn here, once, so no two processes can race to create it.
    op.bulk_insert(installation, [{"id": 1, "export_key": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table("installation")
