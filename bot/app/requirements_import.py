"""`/watch import`: a team's requirements file becomes the channel's watches and pins.

Each requirement is matched to a Django Packages package by its PyPI name: first among the
stored packages (their `pypi_url`), then in the catalog by the slug spelt like the name (what
most listings use), kept only when that listing names the same PyPI project. Those found are
watched in the channel (fetched first: the silent baseline, as `/watch add` does); every
requirement's pinned or locked version is remembered, so advisories speak to it. A re-import
replaces the pins and says what moved. A file that cannot be read changes nothing.

The quota is asked before the catalog (`bot.app.quotas.room_for`): a file whose stored matches
alone do not fit is refused without a request, and when they leave no room for one more
subscription the names not stored are not looked up (their pins are still kept).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.app.quotas import Quota, check_new_subscriptions, room_for
from bot.app.runtime import Runtime
from bot.core.pypi_names import pypi_project_name
from bot.core.requirements import (
    Pinned,
    Requirements,
    RequirementsError,
    pin_text,
    read_requirements,
)
from bot.errors import NotFound, SentinelError
from storage import pins, subscriptions
from storage.models import TargetKind
from storage.pins import Listing, NewPin

#: Requirements one import may name (a lock file lists every transitive dependency).
MAX_REQUIREMENTS = 300
#: Catalog lookups in flight at once, for names no stored package has.
LOOKUPS = 4


class UnreadableRequirements(SentinelError):
    """The attached file cannot be imported; the message is one sentence for the user."""


@dataclass(frozen=True, slots=True)
class Watched:
    """A requirement matched to a listing."""

    listing: Listing
    requirement: Pinned


@dataclass(slots=True)
class Imported:
    """What an import did, for the answer."""

    filename: str
    requirements: Requirements
    added: list[Watched] = field(default_factory=list)
    already: list[Watched] = field(default_factory=list)
    unlisted: list[Pinned] = field(default_factory=list)
    #: Requirements not looked up in the catalog: the channel or server had no room left.
    unsought: list[Pinned] = field(default_factory=list)
    #: (name, previous pin, new pin) of names whose pin moved since the last import.
    repinned: list[tuple[str, str, str]] = field(default_factory=list)
    #: Names the previous import had and this file no longer has.
    dropped: list[str] = field(default_factory=list)


async def import_requirements(
    runtime: Runtime,
    *,
    guild_id: int,
    channel_id: int,
    user_id: int | None,
    filename: str,
    content: bytes,
) -> Imported:
    """Read the file, match its requirements, watch and pin; raises `UnreadableRequirements`
    (nothing changed) for a file that cannot be read, `QuotaReached` (nothing changed either)
    when the new watches would pass the channel's or server's quota."""
    try:
        requirements = read_requirements(filename, content)
    except RequirementsError as exc:
        raise UnreadableRequirements(f"{exc} Nothing was changed.") from None
    if not requirements.entries:
        raise UnreadableRequirements(f"{filename} names no requirement. Nothing was changed.")
    if len(requirements.entries) > MAX_REQUIREMENTS:
        raise UnreadableRequirements(
            f"{filename} names {len(requirements.entries)} requirements; at most "
            f"{MAX_REQUIREMENTS} are imported at once. Nothing was changed."
        )
    listings, unsought = await _match(
        runtime, requirements.entries, guild_id=guild_id, channel_id=channel_id
    )
    outcome = Imported(filename, requirements)
    async with runtime.database.transaction() as session:
        await check_new_subscriptions(
            session,
            runtime.settings,
            guild_id=guild_id,
            channel_id=channel_id,
            kind=TargetKind.PACKAGE,
            target_ids=[listing.id for listing in listings.values()],
        )
        previous = await pins.channel_pins(session, channel_id)
        for requirement in requirements.entries:
            listing = listings.get(requirement.name)
            if listing is None:
                missed = outcome.unsought if requirement.name in unsought else outcome.unlisted
                missed.append(requirement)
            else:
                _, done = await subscriptions.subscribe(
                    session,
                    guild_id=guild_id,
                    channel_id=channel_id,
                    target_kind=TargetKind.PACKAGE,
                    target_id=listing.id,
                    created_by=user_id,
                )
                watched = Watched(listing, requirement)
                (outcome.added if done == "created" else outcome.already).append(watched)
            old = previous.get(requirement.name)
            if old is not None and (old.specifier, old.version) != (
                requirement.specifier,
                requirement.version,
            ):
                outcome.repinned.append((requirement.name, pin_text(old), pin_text(requirement)))
        named = {requirement.name for requirement in requirements.entries}
        outcome.dropped = sorted(name for name in previous if name not in named)
        await pins.replace_pins(
            session,
            guild_id=guild_id,
            channel_id=channel_id,
            pins=[
                NewPin(r.name, r.specifier, r.version, listing.id if listing else None)
                for r in requirements.entries
                for listing in [listings.get(r.name)]
            ],
            now=runtime.clock(),
        )
    return outcome


async def _match(
    runtime: Runtime, requirements: Sequence[Pinned], *, guild_id: int, channel_id: int
) -> tuple[dict[str, Listing], set[str]]:
    """The listing of each requirement found: stored ones first, then the catalog, asked only
    when the channel and server have room for more than the stored ones add (raises
    `QuotaReached` when those alone do not fit). Also returns the names not looked up."""
    async with runtime.database.session() as session:
        stored = await pins.listings_by_pypi_name(session)
        found = {r.name: stored[r.name] for r in requirements if r.name in stored}
        followed = await subscriptions.followed_targets(session, channel_id)
        new = {
            listing.id
            for listing in found.values()
            if (str(TargetKind.PACKAGE), listing.id) not in followed
        }
        room = await room_for(
            session,
            runtime.settings,
            Quota.SUBSCRIPTIONS,
            guild_id=guild_id,
            channel_id=channel_id,
            adding=len(new),
        )
    missing = [r.name for r in requirements if r.name not in found]
    if room <= 0:
        return found, set(missing)
    gate = asyncio.Semaphore(LOOKUPS)

    async def look_up(name: str) -> tuple[str, Listing | None]:
        async with gate:
            try:
                record = await runtime.monitor.refresh_package(name)
            except NotFound:
                return name, None
        if pypi_project_name(record.pypi_url) != name:
            return name, None  # a listing with that slug, but of another PyPI project
        return name, Listing(record.id, record.slug, record.title)

    for name, listing in await asyncio.gather(*(look_up(name) for name in missing)):
        if listing is not None:
            found[name] = listing
    return found, set()
