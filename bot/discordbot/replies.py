"""Everything the bot says goes through here: neutral cards become embeds, and every reply is
escaped where it quotes upstream or user text and fitted to Discord's limits in one place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import discord

from bot.core.card import Card
from bot.messages.limits import escape_text, fit_message

T = TypeVar("T")

#: Link buttons per action row (Discord's limit).
BUTTONS_PER_ROW = 5
#: How long a command may work before it must defer: Discord's deadline is 3 s.
QUICK_ANSWER_SECONDS = 1.5
STORED_COPY = "Django Packages is unreachable right now: this is the stored copy."

HEALTH_COLOURS = {
    "active": discord.Colour.green(),
    "slowing": discord.Colour.gold(),
    "dormant": discord.Colour.orange(),
    "stale": discord.Colour.red(),
}


def card_embed(card: Card) -> discord.Embed:
    """The embed of a neutral card, coloured by health; its text is escaped (it is upstream's)."""
    embed = discord.Embed(
        title=escape_text(card.title),
        url=card.url,
        description=escape_text(card.description),
        colour=HEALTH_COLOURS.get(card.health, discord.Colour.greyple()),
    )
    for fact in card.facts:
        embed.add_field(
            name=escape_text(fact.name), value=escape_text(fact.value), inline=fact.inline
        )
    embed.set_footer(text=escape_text(card.footer))
    return embed


def link_buttons(card: Card) -> discord.ui.View | None:
    """A row of link buttons for the card's links (no state, so no timeout), or None."""
    if not card.links:
        return None
    view = discord.ui.View(timeout=None)
    for index, link in enumerate(card.links):
        view.add_item(
            discord.ui.Button(label=link.label, url=link.url, row=index // BUTTONS_PER_ROW)
        )
    return view


def fitted(
    content: str | None, embeds: Sequence[discord.Embed]
) -> tuple[str | None, list[discord.Embed]]:
    """Content and embeds cut to Discord's limits by `bot.messages.limits`."""
    message = fit_message({"content": content, "embeds": [embed.to_dict() for embed in embeds]})
    return message.get("content"), [discord.Embed.from_dict(e) for e in message.get("embeds", [])]


async def defer_if_slow(interaction: discord.Interaction, work: Awaitable[T]) -> T:
    """Await `work`, deferring the interaction (publicly) if it outlasts a quick answer.

    A quick result can still be answered ephemerally (an unknown slug, say); a slow one is
    acknowledged in time and answered by the followup.
    """
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=QUICK_ANSWER_SECONDS)
        if not done:
            await interaction.response.defer(thinking=True)
        return await task
    finally:
        task.cancel()


async def answer(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embeds: Sequence[discord.Embed] = (),
    view: discord.ui.View | None = None,
    file: discord.File | None = None,
    ephemeral: bool = False,
) -> None:
    """Answer an interaction (or follow up once it was deferred), within Discord's limits."""
    content, fitted_embeds = fitted(content, embeds)
    given = (("content", content), ("view", view), ("file", file))
    extra: dict[str, Any] = {name: value for name, value in given if value is not None}
    if interaction.response.is_done():
        await interaction.followup.send(embeds=fitted_embeds, ephemeral=ephemeral, **extra)
    else:
        await interaction.response.send_message(embeds=fitted_embeds, ephemeral=ephemeral, **extra)
