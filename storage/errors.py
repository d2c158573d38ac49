"""Errors raised by the storage layer."""

from __future__ import annotations

from bot.errors import SentinelError


class DatabaseError(SentinelError):
    """The configured database cannot be used: a malformed URL, a missing driver, no answer."""
