"""Tests of bot.refresh: poll cycles, fingerprints, schedules and the stale report."""
