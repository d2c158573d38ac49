"""A package's security advisories for `/package`, `package` and `check`."""

from __future__ import annotations

import logging

from bot.app.runtime import Runtime
from bot.core.advisories import AdvisoryView, PackageAdvisories, group
from bot.core.pypi_names import pypi_project_name
from bot.core.records import PackageRecord
from bot.osv.client import OsvUnavailable

log = logging.getLogger(__name__)


async def package_advisories(runtime: Runtime, record: PackageRecord) -> PackageAdvisories | None:
    """The advisories naming the package's PyPI project, against its latest release (none for
    a package not on PyPI); None when OSV is off."""
    if runtime.advisories is None:
        return None
    name = pypi_project_name(record.pypi_url)
    if name is None:
        return PackageAdvisories(())
    try:
        found = await runtime.advisories.advisories_of(name)
    except OsvUnavailable as exc:
        log.warning("advisories of %s unavailable: %s", name, exc)
        return PackageAdvisories(None)
    return PackageAdvisories(tuple(AdvisoryView.of(v, record.pypi_version) for v in group(found)))
