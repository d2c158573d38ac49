"""Sliding-window rate limits, per key, in bounded memory."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

#: Keys (people) remembered at most; the one idle longest is forgotten first.
MAX_KEYS = 10_000


class RateLimit:
    """At most `count` events per `per` seconds for each key (`None`: one shared window).

    Memory stays bounded whoever asks: a key holds at most `count` timestamps, and at most
    `max_keys` keys are remembered (forgetting one only ever lets its owner through sooner).
    """

    def __init__(
        self,
        count: int,
        per: float,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.count = count
        self.per = per
        self._max_keys = max_keys
        self._clock = clock
        self._events: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._events)

    def allows(self, key: Hashable = None) -> bool:
        """Whether one more event for `key` fits now (nothing is counted)."""
        return len(self._recent(key)) < self.count

    def take(self, key: Hashable = None) -> bool:
        """Count one event for `key` if it fits; whether it did."""
        recent = self._recent(key)
        if len(recent) >= self.count:
            return False
        recent.append(self._clock())
        self._events[key] = recent
        self._events.move_to_end(key)
        while len(self._events) > self._max_keys:
            self._events.popitem(last=False)
        return True

    def _recent(self, key: Hashable) -> deque[float]:
        recent = self._events.get(key) or deque()
        horizon = self._clock() - self.per
        while recent and recent[0] <= horizon:
            recent.popleft()
        return recent
