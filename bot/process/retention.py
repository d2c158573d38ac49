"""The retention job: once a day, prune settled alerts, old cycle figures and redundant package
history (`storage.retention`), by the ages the settings give."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.app.runtime import Runtime
from bot.core.plural import counted
from storage import retention

log = logging.getLogger(__name__)

#: Seconds between two retention passes.
RETENTION_INTERVAL = 24 * 3600.0


async def retention_pass(runtime: Runtime) -> retention.Pruned:
    """Prune what is older than RETENTION_DAYS (alerts, cycles) or HISTORY_RETENTION_DAYS."""
    now, settings = runtime.clock(), runtime.settings
    async with runtime.database.transaction() as session:
        pruned = await retention.prune(
            session,
            settled_before=now - timedelta(days=settings.retention_days),
            history_before=now - timedelta(days=settings.history_retention_days),
        )
    log.info(
        "retention: pruned %s, %s, %s",
        counted(pruned.alerts, "settled alert"),
        counted(pruned.cycles, "cycle"),
        counted(pruned.history, "history row"),
    )
    return pruned
