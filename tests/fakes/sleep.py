"""A stand-in for `asyncio.sleep` that records the waits instead of waiting."""

from __future__ import annotations

import asyncio


class RecordingSleep:
    """Pass as `sleep=`; `calls` lists every requested wait, in seconds, in order."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)  # still a suspension point, like the real thing
