"""PyPI and endoflife.date: each watched project's last answer, announced releases, and
upstream documents; subscriptions on the old default events also get `compat` and `yanked`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
#: The default events before this revision, and what this revision adds to them.
OLD_DEFAULT = {"release", "activity", "stale", "popularity", "grid", "removed"}
ADDED = ["compat", "yanked"]


def upgrade() -> None:
    op.create_table(
        "pypi_projects",
        sa.Column("package_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("checked_at", TIMESTAMP, nullable=True),
        sa.Column("next_check_at", TIMESTAMP, nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("project", JSON, nullable=True),
        sa.Column("declared", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name="fk_pypi_projects_package_id_packages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("package_id", name="pk_pypi_projects"),
    )
    op.create_index(
        "ix_pypi_projects_next_check_at", "pypi_projects", ["next_check_at"], unique=False
    )
    op.create_table(
        "announced_releases",
        sa.Column("package_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("announced_at", TIMESTAMP, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name="fk_announced_releases_package_id_packages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("package_id", "version", name="pk_announced_releases"),
    )
    op.create_table(
        "source_documents",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("checked_at", TIMESTAMP, nullable=False),
        sa.Column("body", JSON, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_source_documents"),
    )
    _add_new_default_events()


def _add_new_default_events() -> None:
    """A subscription on exactly the old default gets the new default kinds too."""
    connection = op.get_bind()
    subscriptions = sa.table(
        "subscriptions", sa.column("id", sa.Integer()), sa.column("events", JSON)
    )
    rows = connection.execute(sa.select(subscriptions.c.id, subscriptions.c.events)).all()
    updates = []
    for subscription_id, events in rows:
        names = json.loads(events) if isinstance(events, str) else events
        if set(names or ()) == OLD_DEFAULT:
            updates.append({"sid": subscription_id, "new": sorted([*names, *ADDED])})
    if updates:
        connection.execute(
            subscriptions.update()
            .where(subscriptions.c.id == sa.bindparam("sid"))
            .values(events=sa.bindparam("new")),
            updates,
        )


def downgrade() -> None:
    op.drop_table("source_documents")
    op.drop_table("announced_releases")
    op.drop_index("ix_pypi_projects_next_check_at", table_name="pypi_projects")
    op.drop_table("pypi_projects")
