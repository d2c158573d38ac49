"""Security advisories: OSV records read, the advisories known per PyPI name, the pins a
channel imported, and urgent alerts (posted past a digest and the daily cap).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column(
        "alerts",
        sa.Column("urgent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_table(
        "osv_records",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("modified", sa.String(length=64), nullable=False),
        sa.Column("record", JSON, nullable=False),
        sa.Column("fetched_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_osv_records")),
    )
    op.create_table(
        "osv_packages",
        sa.Column("pypi_name", sa.String(length=256), nullable=False),
        sa.Column("checked_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("pypi_name", name=op.f("pk_osv_packages")),
    )
    op.create_table(
        "known_advisories",
        sa.Column("pypi_name", sa.String(length=256), nullable=False),
        sa.Column("osv_id", sa.String(length=128), nullable=False),
        sa.Column("material", sa.String(length=32), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("pypi_name", "osv_id", name=op.f("pk_known_advisories")),
    )
    op.create_table(
        "pins",
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("pypi_name", sa.String(length=256), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("specifier", sa.Text(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "pypi_name", name=op.f("pk_pins")),
    )


def downgrade() -> None:
    op.drop_table("pins")
    op.drop_table("known_advisories")
    op.drop_table("osv_packages")
    op.drop_table("osv_records")
    # Not in batch mode: rebuilding the table on SQLite would lose its indexes' names.
    op.drop_column("alerts", "urgent")
