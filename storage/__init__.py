"""Storage: SQLAlchemy models, the `Database` (engine, sessions, migrations) and query modules.

Queries are plain async functions taking an `AsyncSession`; callers own the transaction:

    async with database.transaction() as session:
        stored = await packages.load_packages(session, package_ids)

Write functions read their optional settings one way: left out (`KEEP`) is unchanged, `None`
clears, any other value sets.
"""

from storage import channels, cycles, grids, outbox, packages, subscriptions
from storage._sql import KEEP
from storage.database import Database
from storage.errors import DatabaseError
from storage.grids import GridRef
from storage.models import Alert, AlertStatus, Grid, Subscription, TargetKind
from storage.packages import StoredPackage

__all__ = [
    "KEEP",
    "Alert",
    "AlertStatus",
    "Database",
    "DatabaseError",
    "Grid",
    "GridRef",
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
