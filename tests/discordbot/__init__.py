"""Tests of the Discord adapter (bot.discordbot and cogs)."""
