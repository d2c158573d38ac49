"""Recording posted messages on their alerts, many messages per transaction.

One transaction per posted message made the database the bottleneck of a large release; the
settler gathers posted messages and records them together, at most `batch` at a time and no
later than `delay` seconds after the oldest was posted. A message posted through a webhook is
recorded at once: Discord offers webhooks no nonce, so the record is its only protection
against being posted again after a crash.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.delivery.plan import Post
from storage import outbox
from storage.database import Database

SETTLE_BATCH = 50
SETTLE_DELAY = 0.5
SUMMARIZED = "Not posted on its own: over the channel's daily cap, counted in the summary line."


class Tally(Protocol):
    messages: int
    edited: int
    sent: int
    summarized: int


@dataclass(frozen=True, slots=True)
class Posted:
    post: Post
    message_id: int
    at: datetime
    #: The message was changed rather than posted (a retraction marking its advisory's).
    edited: bool = False


class Settler:
    def __init__(
        self,
        database: Database,
        clock: Callable[[], datetime],
        tally: Tally,
        *,
        batch: int = SETTLE_BATCH,
        delay: float = SETTLE_DELAY,
    ) -> None:
        self.database = database
        self.clock = clock
        self.tally = tally
        self.batch = batch
        self.delay = delay
        self._posted: list[Posted] = []
        self._oldest = 0.0
        self._writing = asyncio.Lock()

    async def posted(
        self, post: Post, message_id: int, *, at_once: bool = False, edited: bool = False
    ) -> None:
        """Note that Discord accepted `post` as `message_id` (`edited`: as a change to that
        message); record it when its turn comes."""
        if not self._posted:
            self._oldest = time.monotonic()
        self._posted.append(Posted(post, message_id, self.clock(), edited))
        overdue = time.monotonic() - self._oldest >= self.delay
        if at_once or overdue or len(self._posted) >= self.batch:
            await self.flush()

    async def flush(self) -> None:
        """Record every message noted so far, in one transaction."""
        async with self._writing:
            done, self._posted = self._posted, []
            if not done:
                return
            async with self.database.transaction() as session:
                for item in done:
                    ids = [a.id for a in item.post.alerts]
                    if item.post.summary:
                        await outbox.mark_summarized(
                            session, ids, message_id=item.message_id, now=item.at, reason=SUMMARIZED
                        )
                    else:
                        await outbox.mark_sent(
                            session, ids, message_id=item.message_id, now=item.at
                        )
        for item in done:
            if item.edited:
                self.tally.edited += 1
            else:
                self.tally.messages += 1
            if item.post.summary:
                self.tally.summarized += len(item.post.alerts)
            else:
                self.tally.sent += len(item.post.alerts)
