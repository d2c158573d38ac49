"""Lookups of single keys answered by batched reads (the DataLoader pattern).

`Batcher.load(key)` queues the key and waits. One task per batcher reads the queued keys with
one call of its `read` function, then whatever was queued while that read ran, and so on
until nothing is queued. So every key asked in the same event-loop turn, or while a read is in
flight, shares the next read, and at most one read is in flight at a time. A key the read
finds nothing for (leaves out of its answer) is answered with None.

Nothing is cached: a key is always answered by a read that started after it was asked. An
error of a read reaches every waiter of that batch and no other; a waiter that is cancelled
simply gets no answer, the others of its batch get theirs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Reads many keys at once: what it found, by key (a key it found nothing for is left out).
BatchRead = Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]


class Batcher(Generic[K, V]):
    """Coalesces `load(key)` calls into calls of `read(keys)`, one in flight at a time."""

    def __init__(self, read: BatchRead[K, V], *, name: str = "batch") -> None:
        self._read = read
        self._name = name
        self._queued: list[tuple[K, asyncio.Future[V | None]]] = []
        self._reader: asyncio.Task[None] | None = None

    async def load(self, key: K) -> V | None:
        """What the next batch's read finds for `key` (None: nothing); its error if it fails."""
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._queued.append((key, future))
        if self._reader is None or self._reader.done():
            # Starts after the tasks already ready: keys asked in this turn join the batch.
            self._reader = asyncio.create_task(self._read_queued(), name=self._name)
        return await future

    async def _read_queued(self) -> None:
        try:
            while self._queued:
                batch, self._queued = self._queued, []
                await self._answer(batch)
        finally:
            for _, future in self._queued:  # only when this task itself was cancelled
                future.cancel()
            self._queued = []

    async def _answer(self, batch: list[tuple[K, asyncio.Future[V | None]]]) -> None:
        waiting = [(key, future) for key, future in batch if not future.done()]
        if not waiting:
            return  # every waiter gave up while queued
        try:
            found = await self._read(list(dict.fromkeys(key for key, _ in waiting)))
        except asyncio.CancelledError:
            for _, future in waiting:
                future.cancel()
            raise
        except Exception as exc:  # handed to each waiter, who raises it
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        for key, future in waiting:
            if not future.done():  # else cancelled while its batch was read
                future.set_result(found.get(key))
