"""The command tree: one place that turns app-command errors into a short ephemeral answer,
including "no such package or grid — did you mean …" for every command that looks one up."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.app.lookup import not_found
from bot.discordbot.latency import observe_latency
from bot.discordbot.options import BadOption
from bot.discordbot.replies import answer
from bot.errors import NotFound, SentinelError
from bot.messages.limits import escape_text
from bot.refresh.names import Kind

if TYPE_CHECKING:
    from bot.discordbot.bot import SentinelBot

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side and it has been logged: please try again later."


def _permissions(names: list[str]) -> str:
    """["manage_channels"] → "Manage Channels"."""
    return ", ".join(name.replace("_", " ").title() for name in names)


def explain(error: app_commands.AppCommandError) -> str | None:
    """What to tell the user about an expected error; None for a bug."""
    original = getattr(error, "original", error)
    match original:
        case SentinelError():
            return original.user_message
        case BadOption():
            return str(original)
        case app_commands.MissingPermissions():
            needed = _permissions(original.missing_permissions)
            return f"You need the {needed} permission for this: ask a server manager."
        case app_commands.BotMissingPermissions():
            needed = _permissions(original.missing_permissions)
            return f"I need the {needed} permission in this channel: ask a server manager."
        case app_commands.CommandOnCooldown():
            return f"Slow down a little: try again in {original.retry_after:.0f} s."
        case app_commands.NoPrivateMessage():
            return "This command only works in a server channel."
        case app_commands.TransformerError():
            return f"{original.value!r} is not valid here: pick one of the suggestions."
        case app_commands.CheckFailure():
            return "You cannot use this command here."
    return None


class SentinelTree(app_commands.CommandTree):
    """Answers every failed command with one ephemeral sentence; tracebacks go to the log."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        if isinstance(original, NotFound) and original.kind in ("package", "grid"):
            message: str | None = await self._unknown(original)
        else:
            message = explain(error)
        command = interaction.command.qualified_name if interaction.command else "?"
        if message is None:
            log.error("/%s failed", command, exc_info=error)
            message = UNEXPECTED
        elif isinstance(original, SentinelError) and original.user_message != str(original):
            # the details the user was spared go to the operator's log
            log.warning("/%s: %s", command, original)
        try:
            await answer(interaction, escape_text(message), ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about an error (interaction expired?)")
        observe_latency(interaction)

    async def _unknown(self, error: NotFound) -> str:
        """'No package “…” on Django Packages. Did you mean: a, b?'"""
        runtime = cast("SentinelBot", self.client).runtime
        kind: Kind = "grid" if error.kind == "grid" else "package"
        return await not_found(runtime, kind, str(error.key))
