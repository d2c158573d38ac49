"""Remember each package's payload fingerprint and the age of its newest busy week.

A refresh compares a payload's fingerprint with the stored one before validating it, and judges
an unchanged package's health from `last_updated`, `last_fetched` and `newest_busy_week`
without rebuilding its record. Fingerprints start empty (the next refresh fills them); the busy
week is computed here from the stored commit window.

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None

COMMIT_WEEKS = 52


def _newest_busy_week(commits: Any) -> int | None:
    """As `bot.core.health.newest_busy_week` is today (a migration must not change later)."""
    if isinstance(commits, str):
        commits = json.loads(commits)
    if not commits:
        return None
    return next((weeks for weeks, n in enumerate(reversed(commits)) if n), COMMIT_WEEKS)


def upgrade() -> None:
    op.add_column("packages", sa.Column("payload_hash", sa.String(length=64), nullable=True))
    op.add_column("packages", sa.Column("newest_busy_week", sa.SmallInteger(), nullable=True))
    connection = op.get_bind()
    packages = sa.table(
        "packages",
        sa.column("id", sa.Integer()),
        sa.column("commits_over_52", sa.JSON()),
        sa.column("newest_busy_week", sa.SmallInteger()),
    )
    rows = connection.execute(sa.select(packages.c.id, packages.c.commits_over_52)).all()
    busy = [
        {"package_id": package_id, "week": _newest_busy_week(commits)}
        for package_id, commits in rows
    ]
    if any(row["week"] is not None for row in busy):
        connection.execute(
            packages.update()
            .where(packages.c.id == sa.bindparam("package_id"))
            .values(newest_busy_week=sa.bindparam("week")),
            [row for row in busy if row["week"] is not None],
        )


def downgrade() -> None:
    # Not in batch mode: rebuilding the table on SQLite would lose the lower(slug) index.
    op.drop_column("packages", "newest_busy_week")
    op.drop_column("packages", "payload_hash")
