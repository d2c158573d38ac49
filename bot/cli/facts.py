"""The one JSON shape of a package's facts, wherever a command prints a package as JSON.

`package --json` prints `package_facts` with the package's own context added (category, grids,
links); each row of `grid --json` is the same facts with its rank; `stale --json` is a list of
them. Later sources add their keys to `package_facts`, so every command gets them.
"""

from __future__ import annotations

from typing import Any

from bot.core.health import Health
from bot.core.records import PackageRecord


def package_facts(record: PackageRecord, health: Health) -> dict[str, Any]:
    """A package's facts as JSON values; `None` where unknown."""
    last = health.last_commit
    return {
        "id": record.id,
        "slug": record.slug,
        "title": record.title,
        "description": record.repo_description,
        "version": record.pypi_version,
        "stars": record.repo_watchers,
        "forks": record.repo_forks,
        "last_commit": last.date().isoformat() if last else None,
        "health": {"state": health.state, "reasons": list(health.reasons)},
        "commits": {
            "weekly": list(record.commits_over_52),
            "counted_at": record.last_fetched.isoformat() if record.last_fetched else None,
        },
        "repository": record.repo_url,
        "documentation": record.documentation_url,
    }
