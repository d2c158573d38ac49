"""Naming a channel's subscriptions and their settings, for `/watch list` and `/settings`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Unpack

import discord
from discord import app_commands

from bot.app.quotas import Quota, check_new_subscriptions, room_for
from bot.app.runtime import Runtime
from bot.core.events import Event, MinReleaseLevel
from bot.core.fuzzy import rank
from bot.core.plural import counted
from bot.core.requirements import pin_text
from bot.discordbot.bot import SentinelBot
from bot.discordbot.catalog import may_answer
from bot.discordbot.options import BadOption, describe_events
from bot.discordbot.tables import page_counter, paged
from bot.messages.limits import (
    AUTOCOMPLETE_CHOICES,
    CHOICE_NAME,
    DESCRIPTION,
    EMBED_TOTAL,
    embed_size,
    escape_text,
    truncate,
)
from storage import grids, packages, pins, subscriptions
from storage.models import Pin, Subscription, TargetKind
from storage.subscriptions import AlertChanges

LEVELS = {
    "major": "major releases only",
    "minor": "minor and major releases",
    "patch": "every release",
}
RESUME_HINT = "Fix that, then subscribe again (/watch add or /grid subscribe) to resume."
OVERVIEW_TITLE = "Subscriptions in this channel"
NOTHING_FOLLOWED = "Nothing yet: a manager can add one with /watch add or /grid subscribe."
#: Subscriptions (or lines of pins) on one page of a channel's overview.
ENTRIES_PER_PAGE = 10
#: Pins named on one line of the overview.
PINS_PER_LINE = 10
#: Characters kept for a page's footer ("Page 12/12 · 100 subscriptions · 250 pins").
FOOTER_ROOM = 100


@dataclass(frozen=True, slots=True)
class Target:
    """What a subscription follows, by name."""

    kind: str
    id: int
    slug: str
    title: str

    @property
    def key(self) -> str:
        """The autocomplete value naming this target: "package:django-flatblocks"."""
        return f"{self.kind}:{self.slug}"

    def label(self) -> str:
        """Title and slug, escaped, e.g. Django Flatblocks (django-flatblocks); the slug alone
        when the title is not known yet."""
        name = escape_text(self.slug)
        if self.title != self.slug:
            name = f"{escape_text(self.title)} ({name})"
        return f"grid {name}" if self.kind == TargetKind.GRID else name


async def targets_of(
    runtime: Runtime, subs: Sequence[Subscription]
) -> dict[tuple[str, int], Target]:
    """The names of what `subs` follow; a target not stored yet is named by the slug an
    import remembered for it (its title comes with the first refresh), else by its id."""
    found: dict[tuple[str, int], Target] = {}
    package_ids = [s.target_id for s in subs if s.target_kind == TargetKind.PACKAGE]
    grid_ids = [s.target_id for s in subs if s.target_kind == TargetKind.GRID]
    async with runtime.database.session() as session:
        for package in (await packages.load_packages(session, package_ids)).values():
            record = package.record
            found[(TargetKind.PACKAGE, record.id)] = Target(
                "package", record.id, record.slug, record.title
            )
        for grid_id in grid_ids:
            if grid := await grids.find_grid(session, grid_id):
                found[(TargetKind.GRID, grid.id)] = Target("grid", grid.id, grid.slug, grid.title)
    for sub in subs:
        name = sub.target_slug or str(sub.target_id)
        found.setdefault(
            (sub.target_kind, sub.target_id), Target(sub.target_kind, sub.target_id, name, name)
        )
    return found


def describe(subscription: Subscription) -> str:
    """One line of a subscription's settings."""
    parts = [
        f"events: {describe_events(subscription.events)}",
        LEVELS[subscription.min_release_level]
        + ("" if subscription.include_prereleases else ", no pre-releases"),
    ]
    if subscription.role_id is not None:
        parts.append(f"mentions <@&{subscription.role_id}>")
    return " · ".join(parts)


async def channel_overview(
    runtime: Runtime, channel_id: int, *, beside: discord.Embed | None = None
) -> list[discord.Embed]:
    """A channel's subscriptions and pins (`_entries`), one embed per page, each page leaving
    room for `beside` in the same message."""
    async with runtime.database.session() as session:
        subs = await subscriptions.channel_subscriptions(session, channel_id)
        pinned = list((await pins.channel_pins(session, channel_id)).values())
    if not subs and not pinned:
        return [discord.Embed(title=OVERVIEW_TITLE, description=NOTHING_FOLLOWED)]
    taken = embed_size(beside.to_dict()) if beside else 0
    room = min(DESCRIPTION, EMBED_TOTAL - taken - len(OVERVIEW_TITLE) - FOOTER_ROOM)
    pages = paged(await _entries(runtime, subs, pinned), ENTRIES_PER_PAGE, room)
    about = counted(len(subs), "subscription") + (
        f" · {counted(len(pinned), 'pin')}" if pinned else ""
    )
    embeds = []
    for number, page in enumerate(pages, start=1):
        embed = discord.Embed(title=OVERVIEW_TITLE, description="\n".join(page))
        embed.set_footer(text=page_counter(number, len(pages)) + about)
        embeds.append(embed)
    return embeds


async def _entries(
    runtime: Runtime, subs: Sequence[Subscription], pinned: Sequence[Pin]
) -> list[str]:
    """Each subscription with its settings (a package's imported pin beside it) and why it is
    paused if it is, then lines of the channel's other pins."""
    names = await targets_of(runtime, subs)
    watched = {sub.target_id for sub in subs if sub.target_kind == TargetKind.PACKAGE}
    pin_of = {pin.package_id: pin for pin in pinned if pin.package_id in watched}
    entries = []
    for sub in subs:
        label = f"**{names[(sub.target_kind, sub.target_id)].label()}**"
        if sub.target_kind == TargetKind.PACKAGE and sub.target_id in pin_of:
            label += f" · pin {pin_text(pin_of[sub.target_id])}"
        entry = f"{label}\n{describe(sub)}"
        if sub.paused_reason:
            entry += f"\n⏸ Paused: {sub.paused_reason} {RESUME_HINT}"
        entries.append(entry)
    entries += _pin_lines(
        "Not on Django Packages (advisories only)", [p for p in pinned if p.package_id is None]
    )
    entries += _pin_lines(
        "Pinned, not watched here",
        [p for p in pinned if p.package_id is not None and p.package_id not in watched],
    )
    return entries


def _pin_lines(title: str, found: Sequence[Pin]) -> list[str]:
    """Lines naming each pin of `found` with its version, a few to a line, each line under
    `title` so that it reads alone on whichever page it falls; none for none."""
    named = [f"{escape_text(p.pypi_name)} {pin_text(p)}" for p in found]
    return [f"**{title}**: " + ", ".join(line) for line in paged(named, PINS_PER_LINE) if line]


async def channel_targets(runtime: Runtime, channel_id: int) -> list[Target]:
    """What a channel follows, oldest subscription first."""
    async with runtime.database.session() as session:
        subs = await subscriptions.channel_subscriptions(session, channel_id)
    names = await targets_of(runtime, subs)
    return [names[(sub.target_kind, sub.target_id)] for sub in subs]


async def unsubscribe_here(
    runtime: Runtime, interaction: discord.Interaction, kind: TargetKind, key: str
) -> Target | None:
    """Stop the interaction's channel following the package or grid `key` names (slug or id,
    as autocomplete sends it); what it followed, or None when it followed no such thing.
    `/watch remove` and `/grid unsubscribe` both go through here."""
    assert interaction.channel_id is not None
    wanted = key.strip().lower()
    target = next(
        (
            t
            for t in await channel_targets(runtime, interaction.channel_id)
            if t.kind == kind and wanted in (t.slug.lower(), str(t.id))
        ),
        None,
    )
    if target is None:
        return None
    async with runtime.database.transaction() as session:
        removed = await subscriptions.unsubscribe(
            session, channel_id=interaction.channel_id, target_kind=kind, target_id=target.id
        )
    return target if removed else None


def matching(targets: Sequence[Target], current: str) -> list[Target]:
    """The targets best matching what was typed (fuzzy, as every lookup), at most 25."""
    ranked = rank(targets, current, lambda target: (target.slug, target.title))
    return ranked[:AUTOCOMPLETE_CHOICES]


async def followed_autocomplete(
    interaction: discord.Interaction[SentinelBot], current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete for an option naming one of this channel's subscriptions."""
    assert interaction.channel_id is not None
    runtime = interaction.client.runtime
    if not may_answer(runtime, interaction):
        return []
    targets = await channel_targets(runtime, interaction.channel_id)
    return [
        app_commands.Choice(
            name=truncate(f"{t.kind}: {t.title} ({t.slug})", CHOICE_NAME), value=t.key
        )
        for t in matching(targets, current)
    ]


async def followed_target(runtime: Runtime, channel_id: int, text: str) -> Target:
    """The followed target named by an autocomplete value or a typed slug."""
    targets = await channel_targets(runtime, channel_id)
    wanted = text.strip().lower()
    for target in targets:
        if wanted in (target.key.lower(), target.slug.lower()):
            return target
    raise BadOption(f"This channel does not follow “{text}”: pick one of the suggestions.")


def alert_changes(
    *,
    events: frozenset[Event] | None = None,
    role: discord.Role | None = None,
    clear_role: bool = False,
    min_level: MinReleaseLevel | None = None,
    prereleases: bool | None = None,
) -> AlertChanges:
    """The changes a command's options ask for: an option left out (None) changes nothing, and
    `clear_role` stops the mention."""
    changes: AlertChanges = {}
    if events is not None:
        changes["events"] = events
    if role is not None or clear_role:
        changes["role_id"] = role.id if role else None
    if min_level is not None:
        changes["min_release_level"] = min_level
    if prereleases is not None:
        changes["include_prereleases"] = prereleases
    return changes


async def room_here(
    runtime: Runtime, interaction: discord.Interaction, kind: TargetKind, key: str, channel_id: int
) -> None:
    """Refuse (`QuotaReached`) a new subscription of `channel_id` to what `key` names when the
    channel or server is at its quota, before it is fetched (`bot.app.quotas.room_for`)."""
    assert interaction.guild_id is not None, "subscription commands are guild-only"
    async with runtime.database.session() as session:
        await room_for(
            session,
            runtime.settings,
            Quota.SUBSCRIPTIONS,
            guild_id=interaction.guild_id,
            channel_id=channel_id,
            key=key,
            kind=kind,
        )


async def subscribe_here(
    runtime: Runtime,
    interaction: discord.Interaction,
    kind: TargetKind,
    target_id: int,
    *,
    channel_id: int | None = None,
    **changes: Unpack[AlertChanges],
) -> tuple[Subscription, subscriptions.Outcome]:
    """Subscribe `channel_id` (by default the channel an interaction came from), or update its
    subscription with `changes` (`alert_changes`); a new one must fit the quotas
    (`bot.app.quotas`). Returns the subscription and what was done
    (`storage.subscriptions.Outcome`).
    """
    assert interaction.guild_id is not None, "subscription commands are guild-only"
    channel_id = channel_id or interaction.channel_id
    assert channel_id is not None
    async with runtime.database.transaction() as session:
        await check_new_subscriptions(
            session,
            runtime.settings,
            guild_id=interaction.guild_id,
            channel_id=channel_id,
            kind=kind,
            target_ids=[target_id],
        )
        return await subscriptions.subscribe(
            session,
            guild_id=interaction.guild_id,
            channel_id=channel_id,
            target_kind=kind,
            target_id=target_id,
            created_by=interaction.user.id,
            **changes,
        )
