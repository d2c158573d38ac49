"""The Discord adapter: the discord.py bot, its command tree, replies and alert sender.

Only this package, `bot.discord_app` and `cogs/` import discord; the core stays free of it.
"""
