"""The one loop runner: the bot's background loops and headless mode both run their periodic
work through `Loop`.

A loop runs its pass now and then every `seconds`, counted from the start of one pass to the
start of the next (sooner when woken), surviving a pass's failure. Each pass holds a lock, so a
pass driven by hand (`run_once`) never overlaps the loop's own, and `stop` waits for the pass in
progress before cancelling: a loop that is stopped stops between passes. A pass that outlasts
`STOP_GRACE` is cancelled; its open transaction then rolls back, so no cycle is ever
half-written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bot.process.jobs import survive

log = logging.getLogger(__name__)

#: Seconds a stopping loop waits for the pass in progress before cancelling it.
STOP_GRACE = 20.0


T = TypeVar("T")


class Loop(Generic[T]):
    """`step` run as a loop every `seconds` (a number, or asked after each pass), once `ready`
    (if given) has returned; `after_pass` (if given) is called after each of the loop's passes,
    failed or not."""

    def __init__(
        self,
        what: str,
        step: Callable[[], Awaitable[T]],
        seconds: float | Callable[[], float],
        *,
        ready: Callable[[], Awaitable[object]] | None = None,
        after_pass: Callable[[], object] | None = None,
    ) -> None:
        self.what = what
        self.step = step
        self.seconds = seconds
        self.ready = ready
        self.after_pass = after_pass
        self._busy = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> T:
        """One pass now, after the loop's pass in progress if there is one."""
        async with self._busy:
            return await self.step()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self.what} loop")

    def wake(self) -> None:
        """Run the next pass now rather than at the next tick."""
        self._wake.set()

    def interval(self) -> float:
        """Seconds until the next pass."""
        return self.seconds() if callable(self.seconds) else self.seconds

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Cancel the loop once the pass in progress has finished (or after `grace`)."""
        task, self._task = self._task, None
        if task is None:
            return
        try:
            async with asyncio.timeout(grace), self._busy:
                task.cancel()
        except TimeoutError:
            log.warning("%s was still running after %.0f s: cancelling it", self.what, grace)
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        if self.ready is not None:
            await self.ready()
        clock = asyncio.get_running_loop().time
        while True:
            started = clock()
            with survive(self.what):
                await self.run_once()
            if self.after_pass is not None:
                self.after_pass()
            # From start to start: a long pass does not push the next one back by its length.
            pause = max(0.0, started + self.interval() - clock())
            # `asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` loses a cancellation
            # that arrives as the wait ends (`stop` right after `wake`), and the loop never ends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await self._wake.wait()
            self._wake.clear()
