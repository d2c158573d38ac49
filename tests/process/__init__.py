"""Tests of bot.process: roles, loops, liveness, and real processes killed and scaled."""
