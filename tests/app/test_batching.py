"""`Batcher`: single-key lookups answered by batched reads, one read in flight, never a cache."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from bot.app.batching import Batcher

#: Seconds after which a lookup left waiting fails the test instead of hanging.
LEFT_WAITING = 10


class Table:
    """A read that records each batch of keys and can be held in flight."""

    def __init__(self, rows: dict[str, int]) -> None:
        self.rows = rows
        self.batches: list[list[str]] = []
        self.in_flight = self.most_in_flight = 0
        self.release = asyncio.Event()
        self.release.set()
        self.reading = asyncio.Event()

    async def read(self, keys: Sequence[str]) -> Mapping[str, int]:
        self.batches.append(list(keys))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.reading.set()
        try:
            await self.release.wait()
            return {key: self.rows[key] for key in keys if key in self.rows}
        finally:
            self.in_flight -= 1


async def test_keys_asked_together_share_one_read_and_each_gets_its_own_value() -> None:
    table = Table({"a": 1, "b": 2})
    batcher = Batcher(table.read)

    async with asyncio.timeout(LEFT_WAITING):
        values = await asyncio.gather(*(batcher.load(key) for key in ["a", "b", "a", "zz"]))

    assert values == [1, 2, 1, None]  # a key the read finds nothing for: None
    assert table.batches == [["a", "b", "zz"]]  # each key read once


async def test_a_key_asked_during_a_read_waits_for_the_next_read_and_sees_what_changed() -> None:
    table = Table({"a": 1})
    batcher = Batcher(table.read)
    table.release.clear()
    first = asyncio.create_task(batcher.load("a"))
    await table.reading.wait()  # the first read is in flight...
    table.rows["a"] = 2  # ...when someone writes, then asks
    second = asyncio.create_task(batcher.load("a"))
    third = asyncio.create_task(batcher.load("b"))
    await asyncio.sleep(0)
    table.release.set()

    async with asyncio.timeout(LEFT_WAITING):
        assert await first in (1, 2)  # read while the write happened
        assert (await second, await third) == (2, None)  # read after it: never a stale value
    assert table.batches == [["a"], ["a", "b"]]
    assert table.most_in_flight == 1


async def test_an_error_reaches_its_batch_only() -> None:
    table = Table({"a": 1})
    failing = True

    async def read(keys: Sequence[str]) -> Mapping[str, int]:
        if failing:
            raise ConnectionError("the database went away")
        return await table.read(keys)

    batcher = Batcher(read)
    async with asyncio.timeout(LEFT_WAITING):
        errors = await asyncio.gather(batcher.load("a"), batcher.load("b"), return_exceptions=True)
        failing = False
        assert await batcher.load("a") == 1

    assert [type(error) for error in errors] == [ConnectionError, ConnectionError]


async def test_a_waiter_cancelled_while_queued_or_read_leaves_the_others_their_values() -> None:
    table = Table({"a": 1, "b": 2, "c": 3})
    batcher = Batcher(table.read)
    table.release.clear()
    queued = asyncio.create_task(batcher.load("a"))
    reading = asyncio.create_task(batcher.load("b"))
    await asyncio.sleep(0)
    queued.cancel()  # gives up before the read starts
    await table.reading.wait()
    reading.cancel()  # gives up while it runs
    later = asyncio.create_task(batcher.load("c"))
    await asyncio.sleep(0)
    table.release.set()

    async with asyncio.timeout(LEFT_WAITING):
        results = await asyncio.gather(queued, reading, later, return_exceptions=True)
        assert await batcher.load("a") == 1

    assert [type(result) for result in results[:2]] == [asyncio.CancelledError] * 2
    assert results[2] == 3
    assert table.batches == [["b"], ["c"], ["a"]]  # nobody waited for "a" in the first
