"""Errors raised by the storage layer."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from bot.errors import SentinelError


class DatabaseError(SentinelError):
    """The configured database cannot be used: a malformed URL, a missing driver, no answer."""


def database_reason(exc: SQLAlchemyError) -> str:
    """A failed statement's reason on one line, for a log: the driver's error and its first
    line, without the SQL, its parameters or SQLAlchemy's link to its documentation."""
    message = str(exc.args[0]) if exc.args else ""
    return message.splitlines()[0] if message.strip() else type(exc).__name__
