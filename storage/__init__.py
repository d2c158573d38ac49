"""Storage: SQLAlchemy models, the `Database` (engine, sessions, migrations) and query modules.

Queries are plain async functions taking an `AsyncSession`; callers own the transaction:

    async with database.transaction() as session:
        changed = await packages.save_observations(session, records, now=now, next_poll_at=due)
"""

from storage import channels, cycles, grids, outbox, packages, subscriptions
from storage.database import Database
from storage.errors import DatabaseError
from storage.grids import GridRef
from storage.models import Alert, AlertStatus, Grid, Subscription, TargetKind
from storage.outbox import NewAlert
from storage.packages import StoredPackage

__all__ = [
    "Alert",
    "AlertStatus",
    "Database",
    "DatabaseError",
    "Grid",
    "GridRef",
    "NewAlert",
    "StoredPackage",
    "Subscription",
    "TargetKind",
    "channels",
    "cycles",
    "grids",
    "outbox",
    "packages",
    "subscriptions",
]
