"""The readiness board: which watched packages declare support for a Django version.

For a channel's packages (the ones it watches and its grids' members), a grid's members, or
every watched package, each package's status (`bot.core.pypi.readiness`) from PyPI's stored
answer, the counts per status, and the Django version's dates from endoflife.date.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from bot.app.lookup import suggestions
from bot.app.runtime import Runtime
from bot.core.endoflife import DjangoCycle, find_cycle, newest_cycle
from bot.core.plural import counted
from bot.core.pypi import READINESS_ORDER, PypiProject, Readiness, readiness
from bot.core.pypi_names import pypi_project_name
from bot.core.records import PackageRecord
from bot.errors import SentinelError
from bot.refresh.pypi_pass import ask_project, django_cycles
from storage import grids, packages, subscriptions
from storage import pypi as stored_pypi

_DJANGO_VERSION = re.compile(r"^\d{1,2}\.\d{1,2}$")


class ReadinessError(SentinelError):
    """A Django version or grid the board cannot be drawn for; the text says why."""


@dataclass(frozen=True, slots=True)
class ReadinessRow:
    slug: str
    title: str
    status: Readiness
    django_versions: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "slug": self.slug,
            "status": self.status,
            "django_versions": list(self.django_versions),
        }


@dataclass(frozen=True, slots=True)
class ReadinessBoard:
    django: str
    #: The version's release cycle on endoflife.date (None: unknown or off).
    cycle: DjangoCycle | None
    rows: tuple[ReadinessRow, ...]
    #: What the board covers, after "packages": "watched", "in the Flatpages grid", …
    scope: str
    #: Why some statuses are unknown, a sentence each: PyPI has no such project, or failed.
    notes: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[Readiness, int]:
        found = Counter(row.status for row in self.rows)
        return {status: found[status] for status in READINESS_ORDER}

    def headline(self) -> str:
        """ "Django 5.2: 3 ready, 1 no, 2 unknown (of 6 packages watched)"."""
        counts = ", ".join(f"{n} {status}" for status, n in self.counts.items())
        packages = counted(len(self.rows), "package")
        return f"Django {self.django}: {counts} (of {packages} {self.scope})"


async def _asked_live(
    runtime: Runtime, records: Mapping[int, PackageRecord]
) -> tuple[dict[int, PypiProject], tuple[str, ...]]:
    """What PyPI says now of packages the refresh has not asked about (e.g. an unwatched grid's
    members), and notes naming those it has no project for or could not answer for: they
    stay unknown. Nothing is stored of them, so each is asked unconditionally, as `check`
    asks."""
    pypi = runtime.sources.pypi if runtime.sources else None
    names = {pid: name for pid, rec in records.items() if (name := pypi_project_name(rec.pypi_url))}
    if pypi is None or not names:
        return {}, ()
    asked = await asyncio.gather(*(ask_project(pypi, name, None) for name in names.values()))
    replies = dict(zip(names, asked, strict=True))
    failures = {records[pid].slug: reply for pid, reply in replies.items() if reply.error}
    missing = sorted(slug for slug, reply in failures.items() if reply.answered)
    failed = sorted(slug for slug, reply in failures.items() if not reply.answered)
    notes = []
    if missing:
        notes.append(f"PyPI has no project for {_unknown(missing)}.")
    if failed:
        error = failures[failed[0]].error
        notes.append(f"PyPI could not answer for {_unknown(failed)}: {error}")
    projects = {pid: reply.project for pid, reply in replies.items() if reply.project}
    return projects, tuple(notes)


def _unknown(slugs: Sequence[str]) -> str:
    """ "django-valkey, so its status is unknown" (or "their statuses are")."""
    its = "its status is" if len(slugs) == 1 else "their statuses are"
    return f"{', '.join(slugs)}, so {its} unknown"


async def _unknown_grid(runtime: Runtime, grid: str) -> str:
    """Why a grid has no board: the stored grids it may have meant, or how to store it."""
    if close := await suggestions(runtime, "grid", grid):
        return f"No grid “{grid}” is stored. Did you mean: {', '.join(close)}?"
    return f"No grid “{grid}” is stored (follow it or run a sync)."


def _checked_version(text: str) -> str:
    version = text.strip()
    if not _DJANGO_VERSION.match(version):
        raise ReadinessError(f"{text!r} is not a Django feature version: give one like 5.2.")
    return version


async def readiness_board(
    runtime: Runtime,
    django: str | None,
    *,
    grid: str | None = None,
    channel_id: int | None = None,
) -> ReadinessBoard:
    """The board for `django` (default: the newest release endoflife.date knows) over a
    grid's members, else a channel's packages, else every watched package."""
    cycles = await django_cycles(runtime.database)
    if django is None:
        newest = newest_cycle(cycles, runtime.clock().date())
        if newest is None:
            raise ReadinessError(
                "Which Django version? endoflife.date has not been read yet: give one like 5.2."
            )
        version = newest.cycle
    else:
        version = _checked_version(django)
    async with runtime.database.session() as session:
        if grid is not None:
            found = await grids.find_grid(session, grid)
            if found is None:
                raise ReadinessError(await _unknown_grid(runtime, grid))
            ids: Collection[int] = [
                p.record.id for p in await packages.packages_in_grid(session, found.id)
            ]
            scope = f"in the {found.title} grid"
        elif channel_id is not None:
            ids = (await subscriptions.followed_package_ids(session, [channel_id]))[channel_id]
            scope = "followed here"
        else:
            ids = await stored_pypi.watched_ids(session)
            scope = "watched"
        stored = await packages.load_packages(session, ids)
        projects = await stored_pypi.stored_projects(session, ids)
    known = {pid: found.project for pid, found in projects.items() if found.project}
    asked, notes = await _asked_live(
        runtime, {pid: p.record for pid, p in stored.items() if pid not in known}
    )
    known |= asked
    rows = []
    for pid, package in stored.items():
        project = known.get(pid)
        status = readiness(project, version)
        declared = project.django_versions if project else ()
        rows.append(ReadinessRow(package.record.slug, package.record.title, status, declared))
    rows.sort(key=lambda row: (READINESS_ORDER.index(row.status), row.slug))
    return ReadinessBoard(version, find_cycle(cycles, version), tuple(rows), scope, notes)
