"""The Discord adapter: the discord.py bot, its command tree, replies and alert sender.

Only this package and `cogs/` import discord; everything else in `bot/` stays free of it.
"""
