"""`/watch import file:`: the Discord side of importing a requirements file
(`bot.app.requirements_import`): read the attachment, import it, and say what changed."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.app.requirements_import import (
    Imported,
    UnreadableRequirements,
    Watched,
    import_requirements,
)
from bot.app.runtime import Runtime
from bot.core.plural import counted
from bot.core.requirements import MAX_BYTES, Pinned, pin_text
from bot.discordbot.replies import answer, defer_if_slow
from bot.messages.limits import escape_text

#: Names listed per part of the answer before "… and N more".
LISTED = 10


async def import_here(
    runtime: Runtime, interaction: discord.Interaction, attachment: discord.Attachment
) -> None:
    """Import the attached file into the channel the command came from, and answer."""
    assert interaction.guild_id is not None, "guild-only command"
    assert interaction.channel_id is not None
    if attachment.size > MAX_BYTES:
        raise UnreadableRequirements(
            f"{attachment.filename} is {attachment.size // 1024} KiB: a requirements file of at "
            f"most {MAX_BYTES // 1024} KiB is read. Nothing was changed."
        )
    content = await attachment.read()
    outcome = await defer_if_slow(
        interaction,
        import_requirements(
            runtime,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            user_id=interaction.user.id,
            filename=attachment.filename,
            content=content,
        ),
    )
    await answer(interaction, describe_import(outcome, advisories=runtime.advisories is not None))


def describe_import(outcome: Imported, *, advisories: bool) -> str:
    """The answer: what was added, already watched, not listed, and what moved since the last
    import."""
    count = len(outcome.requirements.entries)
    lines = [f"Read {escape_text(outcome.filename)}: {counted(count, 'requirement')}."]
    lines += _part("Now watching", [_watched(w) for w in outcome.added])
    lines += _part("Already watched", [_watched(w) for w in outcome.already])
    followed = "their advisories are still followed" if advisories else "nothing to watch there"
    lines += _part("Not on Django Packages", [_unlisted(r) for r in outcome.unlisted], followed)
    lines += _part(
        "Not looked up on Django Packages",
        [_unlisted(r) for r in outcome.unsought],
        "no room for another subscription here, /watch remove makes some",
    )
    lines += _part(
        "Pins changed",
        [f"{escape_text(name)} {old} → {new}" for name, old, new in outcome.repinned],
    )
    lines += _part(
        "No longer in the file",
        [escape_text(name) for name in outcome.dropped],
        "still watched, /watch remove stops one",
    )
    if outcome.requirements.skipped:
        lines.append(
            f"Skipped {counted(outcome.requirements.skipped, 'line')} naming no package "
            "(options, paths or URLs)."
        )
    return "\n".join(lines)


def _watched(watched: Watched) -> str:
    return f"**{escape_text(watched.listing.title)}** ({pin_text(watched.requirement)})"


def _unlisted(requirement: Pinned) -> str:
    return f"{escape_text(requirement.name)} ({pin_text(requirement)})"


def _part(title: str, items: Sequence[str], note: str = "") -> list[str]:
    """ "Title (count; note): a, b, c." (nothing when there are no items)."""
    if not items:
        return []
    shown = ", ".join(items[:LISTED])
    more = f", … and {len(items) - LISTED} more" if len(items) > LISTED else ""
    return [f"{title} ({len(items)}{'; ' + note if note else ''}): {shown}{more}."]
