"""Remember, per PyPI name, the `modified` time of each advisory record it was decided on.

The stored copy of a record is shared by every name it affects, so whether a name can have
news is judged against what that name last saw, not against the stored copy (which another
name's check may have refreshed already). Rows known before stay empty: each name is decided
again at its next check, against the records as stored, so an update missed before is told.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("known_advisories", sa.Column("modified", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("known_advisories", "modified")
