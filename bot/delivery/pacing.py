"""Discord's global budget, paced on our side: at most `rate` requests in any second.

One `Pacer` is shared by every delivery task of a process, so together they stay under the
budget instead of bursting into 429s. A request holds its place in the budget from the moment
it leaves until one second after its answer came back: Discord counted it somewhere in
between, so however the network delays requests, no second at Discord ever sees more than
`rate` of ours. With answers taking `latency` seconds, that paces at `rate / (1 + latency)`.

Delivery gets `delivery_budget(DISCORD_GLOBAL_RATE)`: all but a tenth of the budget, which is
left to the bot's other calls (login, the gateway URL, commands' lookups; interaction answers
are exempt) so a backlog delivered right after a start does not meet a 429.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress


def delivery_budget(global_rate: int) -> int:
    """The requests per second delivery may use out of the process's global budget."""
    return max(global_rate - global_rate // 10, 1)


class Pacer:
    def __init__(
        self, rate: int, *, period: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate < 1:
            raise ValueError("a pacer needs a rate of at least 1 request per period")
        self.rate = rate
        self.period = period
        self.clock = clock
        self._in_flight = 0
        self._answered: deque[float] = deque()
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        """Hold a place in the budget around one request (first come, first served)."""
        async with self._changed:
            while (wait := self._wait()) is not None:
                # `asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` loses a
                # cancellation that arrives as the wait ends, and the request would go on.
                with suppress(TimeoutError):
                    async with asyncio.timeout(wait or None):
                        await self._changed.wait()
            self._in_flight += 1
        try:
            yield
        finally:
            async with self._changed:
                self._in_flight -= 1
                self._answered.append(self.clock())
                self._changed.notify_all()

    def _wait(self) -> float | None:
        """None when a request may leave now; else how long until a place frees up (0: when a
        request in flight is answered)."""
        now = self.clock()
        while self._answered and self._answered[0] <= now - self.period:
            self._answered.popleft()
        if self._in_flight + len(self._answered) < self.rate:
            return None
        return self._answered[0] + self.period - now if self._answered else 0
