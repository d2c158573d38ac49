"""The app's clock: one function giving the current time, handed to whatever needs it (the
runtime owns it, so a test can step time for the monitor and delivery at once)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
