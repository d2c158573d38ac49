"""A 52-week commit history drawn in one line of text, and the same history in words.

Django Packages counts the weekly commits when it fetches a repository, so the window ends at
that fetch (`last_fetched`), which can be months or years ago. The words say which weeks they
mean: "the last 52 weeks" only when the count is less than a day old, otherwise "the 52 weeks
before Django Packages last checked, 3 days ago", so a count never reads as recent when it is
not (and never contradicts the card's "last commit 7 months ago").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from math import ceil

from bot.core.plural import counted
from bot.core.timefmt import describe_age

#: The lowest bar is kept for quiet weeks, so a single commit never looks like silence.
BARS = "▁▂▃▄▅▆▇█"
NO_DATA = "no commit data"
RECENT_WEEKS = 4
#: A count younger than this is worded from today ("the last 52 weeks").
FRESH_COUNT = timedelta(days=1)


def counted_recently(counted_at: datetime | None, now: datetime) -> bool:
    """Whether weeks counted at `counted_at` may be worded as ending today."""
    return counted_at is not None and now - counted_at < FRESH_COUNT


def window_words(weeks: int, counted_at: datetime | None, now: datetime) -> str:
    """Which `weeks` weeks a count covers: "the last 52 weeks" when counted within a day,
    else "the 52 weeks before Django Packages last checked, 3 days ago"."""
    if counted_recently(counted_at, now):
        return f"the last {counted(weeks, 'week')}"
    before = f"the {counted(weeks, 'week')} before Django Packages last checked"
    return before if counted_at is None else f"{before}, {describe_age(counted_at, now)}"


def sparkline(counts: Sequence[int]) -> str:
    """One bar per week, oldest first, scaled to the busiest week; quiet weeks are `▁`."""
    if not counts:
        return NO_DATA
    busiest = max(counts)
    steps = len(BARS) - 1
    return "".join(BARS[ceil(count * steps / busiest) if busiest else 0] for count in counts)


def commit_summary(counts: Sequence[int], counted_at: datetime | None, now: datetime) -> str:
    """E.g. "37 commits in the last 52 weeks, 3 in the last 4", or, counted long ago, "37
    commits in the 52 weeks before Django Packages last checked, 3 days ago; 3 in the last 4
    of them"."""
    if not counts:
        return NO_DATA
    window = window_words(len(counts), counted_at, now)
    total = sum(counts)
    if total == 0:
        return f"no commits in {window}"
    commits = f"{counted(total, 'commit')} in {window}"
    recent = sum(counts[-RECENT_WEEKS:])
    if counted_recently(counted_at, now):
        return f"{commits}, {recent} in the last {RECENT_WEEKS}"
    return f"{commits}; {recent} in the last {RECENT_WEEKS} of them"
