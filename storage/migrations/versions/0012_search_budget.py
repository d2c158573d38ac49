"""Searches of Django Packages counted per minute in the database, so every process on one
PostgreSQL database shares one budget for everyone and one per person.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_budget",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "minute", name=op.f("pk_search_budget")),
    )


def downgrade() -> None:
    op.drop_table("search_budget")
