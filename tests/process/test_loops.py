"""The one loop runner: passes on schedule and on demand, failures survived, and a stop that
always stops, between passes."""

from __future__ import annotations

import asyncio

from bot.process.loops import Loop

#: Guards a test against hanging; no test waits this long when the loop works.
HANG = 5.0


class Passes:
    """A step that counts its passes, can be held inside a pass, and can fail once."""

    def __init__(self) -> None:
        self.count = 0
        self.counted = asyncio.Condition()
        self.release = asyncio.Event()
        self.release.set()
        self.fail_next = False

    async def __call__(self) -> int:
        async with self.counted:
            self.count += 1
            self.counted.notify_all()
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("upstream broke")
        return self.count

    async def reached(self, count: int) -> None:
        async with asyncio.timeout(HANG), self.counted:
            await self.counted.wait_for(lambda: self.count >= count)


async def test_stop_right_after_wake_stops_the_loop() -> None:
    """A refresh pass wakes delivery and the bot stops at once: Python 3.11's `wait_for`
    swallowed that cancellation, the loop ran on, and closing the bot hung for good."""
    passes = Passes()
    loop = Loop("delivery", passes, 3600)
    loop.start()
    await passes.reached(1)
    await asyncio.sleep(0)  # the loop is waiting for its next tick

    loop.wake()
    async with asyncio.timeout(HANG):
        await loop.stop()

    await asyncio.sleep(0.01)
    assert passes.count in (1, 2)  # stopped between passes, not looping on


async def test_wake_runs_the_next_pass_now() -> None:
    passes = Passes()
    loop = Loop("delivery", passes, 3600)
    loop.start()
    await passes.reached(1)

    loop.wake()

    await passes.reached(2)
    await loop.stop()


async def test_stop_waits_for_the_pass_in_progress() -> None:
    passes = Passes()
    passes.release.clear()
    loop = Loop("refresh cycle", passes, 3600)
    loop.start()
    await passes.reached(1)

    stopping = asyncio.create_task(loop.stop())
    await asyncio.sleep(0.01)
    assert not stopping.done()  # the pass holds it

    passes.release.set()
    await asyncio.wait_for(stopping, HANG)
    assert passes.count == 1


async def test_a_failed_pass_does_not_end_the_loop() -> None:
    passes = Passes()
    passes.fail_next = True
    loop = Loop("refresh cycle", passes, 0.001)
    loop.start()

    await passes.reached(3)
    await loop.stop()
