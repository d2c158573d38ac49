"""`grid`: a package joined or left a grid.

Grids are diffed by membership rather than record by record; the first sync of a grid is a
silent baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from bot.core.events.base import (
    Card,
    Change,
    Data,
    DigestLine,
    Event,
    EventKind,
    Fact,
    Markup,
    OutboxAlert,
    one_line,
)
from bot.core.records import GridRecord

Direction = Literal["joined", "left"]


def _change(grid: GridRecord, package_id: int, title: str, direction: Direction) -> Change:
    return Change(
        event=Event.GRID,
        package_id=package_id,
        grid_id=grid.id,
        key=f"grid{grid.id}:{package_id}:{direction}",
        summary=f"{title} {direction} the {one_line(grid.title)} grid",
        data={"direction": direction, "grid_slug": grid.slug, "grid_title": grid.title},
    )


def grid_membership_changes(
    grid: GridRecord,
    previous_members: frozenset[int] | None,
    current_members: frozenset[int],
    titles: Mapping[int, str],
) -> list[Change]:
    """Joins then leaves, by package id; `titles` names the packages (an id when missing)."""
    if previous_members is None:
        return []
    moves: list[tuple[int, Direction]] = [
        (pid, "joined") for pid in sorted(current_members - previous_members)
    ]
    moves += [(pid, "left") for pid in sorted(previous_members - current_members)]
    return [
        _change(grid, pid, one_line(titles.get(pid, "")) or f"package {pid}", direction)
        for pid, direction in moves
    ]


def card(data: Data, markup: Markup) -> Card:
    return Card([Fact("Grid", markup.grid(data.get("grid_slug"), data.get("grid_title")))])


def digest(alert: OutboxAlert) -> DigestLine:
    """A grid's joins and leaves go under the grid, by direction."""
    grid = alert.payload.get("grid_title") or alert.payload.get("grid_slug")
    section = str(alert.payload.get("direction") or alert.event)
    return DigestLine(f"Grid: {grid or alert.grid_id}", section, alert.summary)


KIND = EventKind(Event.GRID, colour=0x9B59B6, card=card, digest=digest)
