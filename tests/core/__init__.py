"""Tests of bot.core: the pure domain."""
