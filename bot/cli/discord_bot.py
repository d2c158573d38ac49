"""`djp-sentinel run` and `djp-sentinel sync-commands`: the only commands that import discord."""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.discordbot.run import run_bot
from bot.discordbot.run import sync_commands as register_commands
from bot.process.roles import parse_roles


async def run(args: argparse.Namespace, settings: Settings) -> int:
    return await run_bot(settings, parse_roles(getattr(args, "roles", [])))


async def sync_commands(args: argparse.Namespace, settings: Settings) -> int:
    return await register_commands(settings, args.guild)
