"""The loops one process runs for its roles, assembled in one place for `run` and headless `poll`.

Each loop belongs to a role: a process starts the loops of its roles, and `/healthz` expects a
beat from each after every pass. Loops of the monitor role do work one process of the whole
deployment does, so they run only while this process is the elected monitor
(`storage.coordination.Leadership`): a standby asks for the lock before each of its passes,
every `STANDBY_CHECK` seconds (or the loop's own interval, if shorter), so its first pass
follows within that time of the leader's death. The first cycle of a new leader fetches only
what fell due, so the API sees no more requests than with one monitor. The leader confirms its
lock every `LEAD_CHECK` seconds between passes: deposed (its lock connection ended), its
`djp_sentinel_monitor_leader` gauge drops at once and its monitor loops stand by from then on,
instead of at their next pass, a poll interval later.

A new loop is one line in `ProcessLoops.__init__`: `self._leading(...)` for work one process
does at a time (the refresh cycle, a retention job, another upstream source), `self._shared(...)`
for work every process of a role shares (delivery).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import httpx

from bot import metrics
from bot.app.runtime import Runtime
from bot.delivery.senders import Sender
from bot.delivery.worker import DeliveryReport
from bot.process.jobs import (
    RefreshPass,
    delivery_pass,
    delivery_registration,
    delivery_worker,
    refresh_pass,
    survive,
)
from bot.process.liveness import SLACK, Liveness
from bot.process.loops import Loop
from bot.process.retention import RETENTION_INTERVAL, retention_pass
from bot.process.roles import Role
from storage.coordination import Leadership

#: Seconds between two passes over the outbox.
DELIVERY_INTERVAL = 5.0
#: Seconds between two attempts of a standby monitor to take the lead.
STANDBY_CHECK = 10.0
#: Seconds between two confirmations of the leader that the lead is still its own.
LEAD_CHECK = 1.0

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RoleLoop:
    """A loop, the role whose processes run it, and the name `/healthz` gives it."""

    role: Role
    health: str
    loop: Loop[Any]


class ProcessLoops:
    """The loops of `roles` on `runtime`: started together, stopped together between passes.

    Alerts go out through `bot` (channels) and `http` (webhooks); without a bot only webhook
    alerts are posted and the others wait for a process that has one.
    """

    def __init__(
        self,
        runtime: Runtime,
        roles: frozenset[Role],
        http: httpx.AsyncClient,
        *,
        bot: Sender | None = None,
        liveness: Liveness | None = None,
        delivery_interval: float = DELIVERY_INTERVAL,
    ) -> None:
        self.runtime = runtime
        self.roles = roles
        self.liveness = liveness or Liveness()
        self.leadership = Leadership(runtime.database)
        self.worker = delivery_worker(runtime, bot, http)
        self.registration = delivery_registration(runtime, delivery_interval)
        self._loops: list[RoleLoop] = []
        self._leading_loops: list[Loop[Any]] = []
        poll_interval = runtime.settings.poll_interval_seconds
        self.refresh = self._leading("refresh cycle", "monitor", self._refresh, poll_interval)
        self._leading(
            "retention", "retention", partial(retention_pass, runtime), RETENTION_INTERVAL
        )
        self.delivery = self._shared(
            Role.DELIVERY, "delivery", "delivery", self._deliver, delivery_interval
        )
        self._shared(Role.MONITOR, "monitor lead", "monitor lead", self._confirm_lead, LEAD_CHECK)

    def start(self) -> None:
        """Start the loops of this process's roles; each runs its first pass now."""
        for each in self._loops:
            if each.role in self.roles:
                self.liveness.expect(each.health)
                each.loop.start()

    async def stop(self) -> None:
        """Stop every loop between passes, then hand over the lead and the delivery share."""
        await asyncio.gather(*(each.loop.stop() for each in self._loops))
        await self.leadership.release()
        metrics.LEADER.set(0)
        with survive("leaving the delivery workers"):
            await self.registration.leave()

    async def _refresh(self) -> RefreshPass:
        found = await refresh_pass(self.runtime)
        if found.alerts_enqueued:
            self.delivery.wake()  # deliver what the pass found now, not at the next tick
        return found

    async def _confirm_lead(self) -> None:
        """While leading, check that the lock is still held; once it is not, say so in the
        gauge and have every monitor loop stand by now (a pass that asks for the lead)."""
        if self.leadership.elected and not await self.leadership.hold():
            metrics.LEADER.set(0)
            for loop in self._leading_loops:
                loop.wake()

    async def _deliver(self) -> DeliveryReport:
        return await delivery_pass(self.runtime, self.worker, self.registration)

    def _shared(
        self,
        role: Role,
        what: str,
        health: str,
        step: Callable[[], Awaitable[T]],
        seconds: float | Callable[[], float],
    ) -> Loop[T]:
        """A loop of `role` running `step` every `seconds`, beating as `health` after each pass."""

        def beat() -> None:
            self.liveness.beat(health, loop.interval() + SLACK)

        loop = Loop(what, step, seconds, after_pass=beat)
        self._loops.append(RoleLoop(role, health, loop))
        return loop

    def _leading(
        self, what: str, health: str, step: Callable[[], Awaitable[T]], seconds: float
    ) -> Loop[T | None]:
        """A monitor loop whose `step` runs only while this process leads (None otherwise):
        every `seconds` while leading, every `STANDBY_CHECK` (at most) while standing by."""

        async def if_leading() -> T | None:
            leads = await self.leadership.hold()
            metrics.LEADER.set(leads)
            return await step() if leads else None

        def interval() -> float:
            return seconds if self.leadership.elected else min(seconds, STANDBY_CHECK)

        loop = self._shared(Role.MONITOR, what, health, if_leading, interval)
        self._leading_loops.append(loop)
        return loop
