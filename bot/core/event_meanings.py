"""What each event means, in one sentence, for `/help` and `djp-sentinel --help`.

Keyed by event name and kept outside `bot.core.events`, so that `--help` stays quick (importing
the events package loads every kind); a test checks the names against `Event`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

MEANINGS: Mapping[str, str] = MappingProxyType(
    {
        "release": "a new version on PyPI (major, minor, patch or pre-release), "
        "or the latest release going back to an older one",
        "activity": "the commit activity changes state: active, slowing (13+ quiet weeks), "
        "dormant (26+), or revived",
        "stale": "the package goes stale (no commit for the staleness threshold, 365 days "
        "by default), or stops being stale",
        "popularity": "stars or forks cross a milestone (10, 20, 50, 100, 200, 500, …)",
        "grid": "a package joins or leaves a followed grid",
        "repo": "the repository or docs URL, title or category changes (off by default)",
        "removed": "the package disappears from Django Packages",
        "advisory": "a security advisory (OSV) names the package: severity, affected and fixed "
        "versions, your pin; HIGH or CRITICAL ones affecting the latest release or your pin "
        "are posted at once, past a digest and the daily cap",
        "compat": "the latest final release on PyPI declares a Django version the previous "
        "one did not, or stops declaring one (Framework :: Django :: X.Y classifiers)",
        "yanked": "a release on PyPI that was announced (or the latest) is yanked, with "
        "PyPI's reason",
    }
)
