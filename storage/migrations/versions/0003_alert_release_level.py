"""The release level as a column of the alert, and the weekly stale report as a kind of its own.

`alerts.release_level` is backfilled from the payload's `level` of release alerts, so delivery
filters on the column and never reads JSON. Stale reports were `stale` alerts whose payload said
`kind: "report"`; they become `stale-report` alerts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
alerts = sa.table(
    "alerts",
    sa.column("id", sa.Integer()),
    sa.column("event", sa.String()),
    sa.column("payload", JSON),
    sa.column("release_level", sa.String()),
)


def upgrade() -> None:
    op.add_column("alerts", sa.Column("release_level", sa.String(length=8), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(alerts.c.id, alerts.c.event, alerts.c.payload).where(
            alerts.c.event.in_(["release", "stale"])
        )
    )
    for alert_id, event, payload in rows.all():
        payload = payload or {}
        if event == "release" and payload.get("level"):
            values = {"release_level": payload["level"]}
        elif event == "stale" and payload.get("kind") == "report":
            values = {"event": "stale-report", "payload": _without_kind(payload)}
        else:
            continue
        bind.execute(sa.update(alerts).where(alerts.c.id == alert_id).values(**values))


def downgrade() -> None:
    bind = op.get_bind()
    reports = bind.execute(
        sa.select(alerts.c.id, alerts.c.payload).where(alerts.c.event == "stale-report")
    )
    for alert_id, payload in reports.all():
        bind.execute(
            sa.update(alerts)
            .where(alerts.c.id == alert_id)
            .values(event="stale", payload={"kind": "report", **(payload or {})})
        )
    op.drop_column("alerts", "release_level")


def _without_kind(payload: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in payload.items() if key != "kind"}
