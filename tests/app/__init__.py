"""Tests of bot.app: the use cases."""
