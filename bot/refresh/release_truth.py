"""Django Packages' release changes checked against what PyPI said (the refresh's one hook).

A release announced by either source is remembered (`storage.pypi.mark_announced`), so the
PyPI pass never announces it again and lists the versions published since. A move back from a
release PyPI marks yanked is told as that yank, and a move to a yanked release is dropped
(`pypi_compare.explain_rollbacks`). With PyPI off or unknown for a package, its changes are
left as they are.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import Event
from bot.refresh.compare import Comparison
from bot.refresh.pypi_compare import explain_rollbacks
from storage import packages
from storage import pypi as stored_pypi


async def reconcile(session: AsyncSession, comparison: Comparison, *, now: datetime) -> Comparison:
    """The comparison with each package's release changes checked against PyPI."""
    changes = [seen.changes for seen in comparison.observations]
    released = {c.package_id for listed in changes for c in listed if c.event == Event.RELEASE}
    if not released:
        return comparison
    stored = await stored_pypi.stored_projects(session, released)
    projects = {pid: s.project for pid, s in stored.items() if s.project is not None}
    titles = await packages.package_titles(session, projects)
    checked = [
        explain_rollbacks(listed, projects, titles) if listed else listed for listed in changes
    ]
    announced = {
        change.package_id: [str(change.data["new"])]
        for listed in checked
        for change in listed
        if change.event == Event.RELEASE and change.data.get("kind") == "new"
    }
    await stored_pypi.mark_announced(session, announced, source="djp", now=now)
    observations = [
        replace(seen, changes=listed)
        for seen, listed in zip(comparison.observations, checked, strict=True)
    ]
    return replace(comparison, observations=observations)
