"""Initial schema: packages and their history, grids, categories, subscriptions, outbox, cycles.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("repo_url", sa.Text(), nullable=True),
        sa.Column("repo_description", sa.Text(), nullable=False),
        sa.Column("repo_watchers", sa.Integer(), nullable=True),
        sa.Column("repo_forks", sa.Integer(), nullable=True),
        sa.Column("pypi_version", sa.String(), nullable=True),
        sa.Column("pypi_url", sa.Text(), nullable=True),
        sa.Column("documentation_url", sa.Text(), nullable=True),
        sa.Column("last_updated", TIMESTAMP, nullable=True),
        sa.Column("last_fetched", TIMESTAMP, nullable=True),
        sa.Column("commits_over_52", JSON, nullable=False),
        sa.Column("grid_ids", JSON, nullable=False),
        sa.Column("record", JSON, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("fetched_at", TIMESTAMP, nullable=False),
        sa.Column("next_poll_at", TIMESTAMP, nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("missing_count", sa.Integer(), nullable=False),
        sa.Column("removed_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
        sa.UniqueConstraint("slug", name=op.f("uq_packages_slug")),
    )
    op.create_index(op.f("ix_packages_next_poll_at"), "packages", ["next_poll_at"])

    op.create_table(
        "package_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("observed_at", TIMESTAMP, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("pypi_version", sa.String(), nullable=True),
        sa.Column("repo_watchers", sa.Integer(), nullable=True),
        sa.Column("repo_forks", sa.Integer(), nullable=True),
        sa.Column("last_updated", TIMESTAMP, nullable=True),
        sa.Column("commits_over_52", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_package_history_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_history")),
    )
    op.create_index(
        op.f("ix_package_history_package_id_observed_at"),
        "package_history",
        ["package_id", "observed_at"],
    )

    op.create_table(
        "grids",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_locked", sa.Boolean(), nullable=False),
        sa.Column("header", sa.Boolean(), nullable=False),
        sa.Column("synced_at", TIMESTAMP, nullable=True),
        sa.Column("next_poll_at", TIMESTAMP, nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grids")),
        sa.UniqueConstraint("slug", name=op.f("uq_grids_slug")),
    )

    op.create_table(
        "grid_members",
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grids.id"],
            name=op.f("fk_grid_members_grid_id_grids"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("grid_id", "package_id", name=op.f("pk_grid_members")),
    )
    op.create_index(op.f("ix_grid_members_package_id"), "grid_members", ["package_id"])

    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("title_plural", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("show_pypi", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
    )

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("events", JSON, nullable=False),
        sa.Column("role_id", sa.BigInteger(), nullable=True),
        sa.Column("min_release_level", sa.String(length=16), nullable=False),
        sa.Column("include_prereleases", sa.Boolean(), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.Column("paused_at", TIMESTAMP, nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "target_kind IN ('package', 'grid')",
            name=op.f("ck_subscriptions_target_kind"),
        ),
        sa.CheckConstraint(
            "min_release_level IN ('major', 'minor', 'patch')",
            name=op.f("ck_subscriptions_min_release_level"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint(
            "guild_id",
            "channel_id",
            "target_kind",
            "target_id",
            name=op.f("uq_subscriptions_guild_id_channel_id_target_kind_target_id"),
        ),
    )
    op.create_index(op.f("ix_subscriptions_channel_id"), "subscriptions", ["channel_id"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("dedup_key", sa.String(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'dropped')",
            name=op.f("ck_alerts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_alerts_subscription_id_subscriptions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_alerts_dedup_key")),
    )
    op.create_index(op.f("ix_alerts_subscription_id"), "alerts", ["subscription_id"])
    op.create_index(
        op.f("ix_alerts_status_next_attempt_at"), "alerts", ["status", "next_attempt_at"]
    )

    op.create_table(
        "cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("packages_fetched", sa.Integer(), nullable=False),
        sa.Column("packages_failed", sa.Integer(), nullable=False),
        sa.Column("grids_fetched", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("alerts_enqueued", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("catalog_total", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
    )


def downgrade() -> None:
    for table in (
        "cycles",
        "alerts",
        "subscriptions",
        "categories",
        "grid_members",
        "grids",
        "package_history",
        "packages",
    ):
        op.drop_table(table)
