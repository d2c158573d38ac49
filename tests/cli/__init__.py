"""Tests of bot.cli: the command line as its user runs it."""
