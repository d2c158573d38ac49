"""Whether each role of this process is working, as `/healthz` reports it.

Loops `beat` after every pass with how long the beat stays good; a role whose last beat has
expired (its loop is stuck or died) is failing. Conditions that are not loops (the gateway
connection) register a `check` instead; what the process still waits for at start (Discord)
is named while it waits (`waiting_for`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Slack on top of a loop's interval before `/healthz` calls it stuck.
SLACK = 60.0


class Liveness:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._checks: dict[str, Callable[[], bool]] = {}
        self._waits: set[str] = set()

    def expect(self, name: str) -> None:
        """`name` must beat before the process counts as healthy."""
        self._expiry.setdefault(name, float("-inf"))

    def beat(self, name: str, good_for: float) -> None:
        """`name` is working, and is as long as it beats again within `good_for` seconds."""
        self._expiry[name] = self._clock() + good_for

    def check(self, name: str, working: Callable[[], bool]) -> None:
        """`name` is working whenever `working()` says so."""
        self._checks[name] = working

    @contextmanager
    def waiting_for(self, what: str) -> Iterator[None]:
        """Not ready while inside: `failing()` names `waiting for <what>`."""
        name = f"waiting for {what}"
        self._waits.add(name)
        try:
            yield
        finally:
            self._waits.discard(name)

    def failing(self) -> list[str]:
        """The names not working now, sorted; empty when the process is healthy."""
        now = self._clock()
        stale = {name for name, expiry in self._expiry.items() if expiry < now}
        down = {name for name, working in self._checks.items() if not working()}
        return sorted(stale | down | self._waits)
