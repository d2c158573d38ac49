"""Tests of bot.messages: embeds, charts and Discord's limits."""
