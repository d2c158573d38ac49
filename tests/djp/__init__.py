"""Tests of bot.djp: the Django Packages client and its retry policy."""
