"""`djp-sentinel check FILE`: a requirements file against Django Packages and OSV, in the
terminal, with no Discord and no database.

For each requirement: its Django Packages listing (the slug spelt like the PyPI name, then
the search, kept only when the listing names that PyPI project), the pinned or locked
version, the latest release and how far behind the pin is, the advisories affecting the pin
(or admitted by a range), and with `--django X.Y` whether the latest release declares that
Django version, as PyPI says it now (`bot.core.pypi.readiness`: "ready", "no", or "unknown"
when the release declares no Django version, or PyPI is off, has no such project or fails).
PyPI is an extra here, as in the bot: its failure makes "unknown", never an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from bot.config import Settings
from bot.core.advisories import AdvisoryView, Vulnerability, group, parse_records
from bot.core.pypi import PypiProject, Readiness, readiness
from bot.core.pypi_names import pypi_project_name
from bot.core.records import PackageRecord
from bot.core.requirements import Pinned, Requirements
from bot.djp.client import DjangoPackagesClient
from bot.errors import NotFound
from bot.osv.client import OsvClient
from bot.pypi.client import PypiClient
from bot.refresh.pypi_pass import ask_project, source_client

log = logging.getLogger(__name__)

#: Listings looked up at once.
LOOKUPS = 4
#: Search hits tried per name when no slug is spelt like it.
SEARCH_HITS = 3


@dataclass(frozen=True, slots=True)
class Checked:
    """One requirement, checked."""

    requirement: Pinned
    listing: PackageRecord | None
    #: Advisories affecting the pin or admitted by the range; None when OSV is off.
    advisories: tuple[tuple[AdvisoryView, str | None], ...] | None
    django: Readiness | None

    @property
    def latest(self) -> str | None:
        return self.listing.pypi_version if self.listing else None

    @property
    def pinned_affected(self) -> bool:
        """An advisory affects the pinned or locked version (what makes `check` exit 1)."""
        return bool(self.requirement.version and self.advisories)

    def behind(self) -> str | None:
        """How far the pin is behind the latest release: "up to date", "a major release
        behind (3.2 → 6.0.0)", or None when either is unknown."""
        return behind(self.requirement.version, self.latest)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.requirement.name,
            "slug": self.listing.slug if self.listing else None,
            "pinned": self.requirement.version or self.requirement.specifier or None,
            "latest": self.latest,
            "advisories": None
            if self.advisories is None
            else [view.as_json() | {"fixed_for_pin": fix} for view, fix in self.advisories],
            "django": self.django,
        }


def behind(pinned: str | None, latest: str | None) -> str | None:
    try:
        old, new = Version(pinned or ""), Version(latest or "")
    except InvalidVersion:
        return None
    if old >= new:
        return "up to date"
    if new.major != old.major:
        level = "a major release"
    elif new.minor != old.minor:
        level = "a minor release"
    else:
        level = "a patch release"
    return f"{level} behind ({pinned} → {latest})"


async def check_requirements(
    settings: Settings, requirements: Requirements, *, django: str | None
) -> list[Checked]:
    """Check every requirement; raises `ApiUnavailable` / `OsvUnavailable` when an upstream
    cannot answer (a check that could not look is not a pass)."""
    names = [r.name for r in requirements.entries]
    async with DjangoPackagesClient.from_settings(settings) as client:
        listings = await _listings(client, names)
    found: dict[str, list[Vulnerability]] | None = None
    if settings.osv_api_url:
        async with OsvClient.open(
            settings.osv_api_url, timeout=settings.http_timeout_seconds
        ) as osv:
            found = await _vulnerabilities(osv, names)
    projects = {} if django is None else await _pypi_projects(settings, names)
    return [
        Checked(
            requirement,
            listing,
            None if found is None else _affecting(requirement, found[requirement.name], listing),
            None if django is None else readiness(projects.get(requirement.name), django),
        )
        for requirement in requirements.entries
        for listing in [listings.get(requirement.name)]
    ]


def _affecting(
    requirement: Pinned, vulnerabilities: Sequence[Vulnerability], listing: PackageRecord | None
) -> tuple[tuple[AdvisoryView, str | None], ...]:
    """The vulnerabilities affecting the pinned version (or admitted by the range), each with
    the fix to upgrade to, and whether it affects the latest release too."""
    latest = listing.pypi_version if listing else None
    hits: list[tuple[AdvisoryView, str | None]] = []
    for vulnerability in vulnerabilities:
        if requirement.version:
            if vulnerability.affects(requirement.version):
                fix = vulnerability.fixed_for(requirement.version)
                hits.append((AdvisoryView.of(vulnerability, latest), fix))
            continue
        try:
            met, fix = vulnerability.in_range(SpecifierSet(requirement.specifier))
        except InvalidSpecifier:
            continue
        if met:
            hits.append((AdvisoryView.of(vulnerability, latest), fix))
    return tuple(hits)


async def _listings(client: DjangoPackagesClient, names: Sequence[str]) -> dict[str, PackageRecord]:
    gate = asyncio.Semaphore(LOOKUPS)

    async def one(name: str) -> tuple[str, PackageRecord | None]:
        async with gate:
            return name, await _listing(client, name)

    return {
        name: record
        for name, record in await asyncio.gather(*(one(name) for name in names))
        if record is not None
    }


async def _listing(client: DjangoPackagesClient, name: str) -> PackageRecord | None:
    """The listing naming the PyPI project `name`: by slug, then among the search hits."""
    try:
        record = await client.package(name)
        if pypi_project_name(record.pypi_url) == name:
            return record
    except NotFound:
        pass
    hits = [hit for hit in await client.search(name) if hit.item_type == "package"]
    for hit in hits[:SEARCH_HITS]:
        try:
            record = await client.package(hit.slug)
        except NotFound:
            continue
        if pypi_project_name(record.pypi_url) == name:
            return record
    return None


async def _vulnerabilities(osv: OsvClient, names: Sequence[str]) -> dict[str, list[Vulnerability]]:
    listed = await osv.vulns_for(names)
    records = await osv.vulns(sorted({ref.id for refs in listed.values() for ref in refs}))
    return {
        name: group(
            parse_records([records[ref.id] for ref in listed[name] if ref.id in records], name)[0]
        )
        for name in names
    }


async def _pypi_projects(settings: Settings, names: Sequence[str]) -> dict[str, PypiProject]:
    """What PyPI says of each name it can answer for (none when `PYPI_URL` is empty).

    Asked like the refresh asks (`ask_project`), unconditionally since nothing is stored. Once
    PyPI itself fails (not a 404), the names not yet asked are not: they stay unknown, so a
    PyPI that is down costs a few failed requests, not two attempts per requirement.
    """
    http = source_client(settings, settings.pypi_url, "PyPI")
    if http is None:
        return {}
    client, gate, failing = PypiClient(http), asyncio.Semaphore(http.concurrency), False

    async def one(name: str) -> tuple[str, PypiProject | None]:
        nonlocal failing
        async with gate:
            if failing:
                return name, None
            reply = await ask_project(client, name, None)
        if reply.error is not None and not reply.answered:
            failing = True
            log.warning("%s (Django support unknown)", reply.error)
        return name, reply.project

    try:
        asked = await asyncio.gather(*(one(name) for name in names))
    finally:
        await http.aclose()
    return {name: project for name, project in asked if project is not None}
