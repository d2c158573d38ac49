"""A 52-week commit history drawn in one line of text, and the same history in words."""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil

#: The lowest bar is kept for quiet weeks, so a single commit never looks like silence.
BARS = "▁▂▃▄▅▆▇█"
NO_DATA = "no commit data"
RECENT_WEEKS = 4


def sparkline(counts: Sequence[int]) -> str:
    """One bar per week, oldest first, scaled to the busiest week; quiet weeks are `▁`."""
    if not counts:
        return NO_DATA
    busiest = max(counts)
    steps = len(BARS) - 1
    return "".join(BARS[ceil(count * steps / busiest) if busiest else 0] for count in counts)


def _commits(count: int) -> str:
    return f"{count} commit{'s' if count != 1 else ''}"


def commit_summary(counts: Sequence[int]) -> str:
    """E.g. "37 commits in 52 weeks, 3 in the last 4"."""
    if not counts:
        return NO_DATA
    total = sum(counts)
    if total == 0:
        return f"no commits in {len(counts)} weeks"
    recent = sum(counts[-RECENT_WEEKS:])
    return f"{_commits(total)} in {len(counts)} weeks, {recent} in the last {RECENT_WEEKS}"
