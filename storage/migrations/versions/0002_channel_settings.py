"""Channel settings (digests, staleness threshold, daily cap, stale report) and
feature-complete marks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channel_settings",
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("digest_mode", sa.String(length=16), nullable=False),
        sa.Column("digest_hour", sa.Integer(), nullable=False),
        sa.Column("digest_weekday", sa.Integer(), nullable=False),
        sa.Column("digest_bypass", JSON, nullable=False),
        sa.Column("stale_after_days", sa.Integer(), nullable=True),
        sa.Column("daily_cap", sa.Integer(), nullable=True),
        sa.Column("stale_report", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "digest_mode IN ('immediate', 'daily', 'weekly')",
            name=op.f("ck_channel_settings_digest_mode"),
        ),
        sa.CheckConstraint(
            "digest_hour BETWEEN 0 AND 23", name=op.f("ck_channel_settings_digest_hour")
        ),
        sa.CheckConstraint(
            "digest_weekday BETWEEN 0 AND 6", name=op.f("ck_channel_settings_digest_weekday")
        ),
        sa.CheckConstraint(
            "stale_after_days IS NULL OR stale_after_days > 0",
            name=op.f("ck_channel_settings_stale_after"),
        ),
        sa.CheckConstraint(
            "daily_cap IS NULL OR daily_cap > 0", name=op.f("ck_channel_settings_daily_cap")
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_settings")),
    )
    op.create_index(op.f("ix_channel_settings_guild_id"), "channel_settings", ["guild_id"])

    op.create_table(
        "feature_complete",
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("package_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("marked_by", sa.BigInteger(), nullable=True),
        sa.Column("marked_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "package_id", name=op.f("pk_feature_complete")),
    )


def downgrade() -> None:
    op.drop_table("feature_complete")
    op.drop_index(op.f("ix_channel_settings_guild_id"), table_name="channel_settings")
    op.drop_table("channel_settings")
