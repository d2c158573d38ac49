"""What one refresh cycle did: printed by `poll --once`, recorded for `/status`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.events import Change
from bot.refresh.apply import Applied
from bot.refresh.schedule import Plan

#: A sync's progress: phase, items done, items in the phase.
Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class CycleReport:
    """What one cycle did; printed by `poll --once` and summarised by `/status`."""

    started_at: datetime
    plan: Plan = "idle"
    finished_at: datetime | None = None
    packages_fetched: int = 0
    grids_fetched: int = 0
    categories_fetched: int = 0
    requests: int = 0
    catalog_total: int | None = None
    changes: list[Change] = field(default_factory=list)
    alerts_enqueued: int = 0
    failures: dict[str, str] = field(default_factory=dict)

    #: Wall-clock seconds of each phase of a sync (categories, packages, grids).
    phase_seconds: dict[str, float] = field(default_factory=dict)

    def applied(self, applied: Applied) -> None:
        """Count what an applied batch changed and enqueued."""
        self.changes.extend(applied.changes)
        self.alerts_enqueued += applied.alerts_enqueued

    def fail(self, target: str, error: BaseException | str) -> None:
        self.failures[target] = str(error)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phase_seconds[name] = time.perf_counter() - started
