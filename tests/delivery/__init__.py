"""Tests of bot.delivery: the outbox worker, digests, senders and worker identity."""
