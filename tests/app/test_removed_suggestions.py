"""A package removed from Django Packages is never offered as "Did you mean" again, whether it
was removed while the bot runs (the in-memory index) or before it started (the stored names)."""

from __future__ import annotations

from datetime import timedelta

from bot.app.lookup import not_found, suggestions
from bot.app.runtime import Runtime
from storage.database import Database
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import SteppingClock
from tests.plugins.database import follow

FLATBLOCKS = 265


async def test_a_package_removed_while_running_is_no_longer_suggested(
    runtime: Runtime, database: Database, djp_api: FakeDjangoPackages, clock: SteppingClock
) -> None:
    await follow(database, 2, FLATBLOCKS)
    await runtime.monitor.sync_catalog()
    assert "django-flatblocks" in await suggestions(runtime, "package", "django-flatblock")
    djp_api.remove_package(FLATBLOCKS)

    removed = []
    for _ in range(4):  # it takes more than one miss to be sure a package is gone
        clock.advance(timedelta(days=1))
        removed += (await runtime.monitor.run_cycle()).changes

    assert [change.event for change in removed] == ["removed"]
    assert "django-flatblocks" not in await suggestions(runtime, "package", "django-flatblock")
    assert "Did you mean" not in await not_found(runtime, "package", "django-flatblocks")
