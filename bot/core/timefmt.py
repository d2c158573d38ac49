"""Human wording for ages and durations, shared by health reasons, cards and the CLI."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.plural import counted

_UNITS = ((365, "year"), (30, "month"), (7, "week"), (1, "day"))


def describe_span(span: timedelta) -> str:
    """`timedelta(days=800)` → "2 years"; anything under a day → "less than a day"."""
    days = span.days
    for size, unit in _UNITS:
        if days >= size:
            return counted(days // size, unit)
    return "less than a day"


def describe_age(then: datetime, now: datetime) -> str:
    """How long ago `then` was, as seen at `now`: "4 years ago", "today", "in the future"."""
    span = now - then
    if span < timedelta(0):
        return "in the future"
    if span < timedelta(days=1):
        return "today"
    return f"{describe_span(span)} ago"
