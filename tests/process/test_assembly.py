"""The loops of a process (`bot.process.assembly`): which loops a role starts, how often a
standby asks for the lead, and what a stop leaves behind."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY

from bot.app.runtime import Runtime
from bot.process.assembly import STANDBY_CHECK, ProcessLoops
from bot.process.liveness import Liveness
from bot.process.roles import Role

MONITOR = frozenset({Role.MONITOR})


def leader_gauge() -> float | None:
    return REGISTRY.get_sample_value("djp_sentinel_monitor_leader")


async def test_a_process_runs_and_expects_only_its_roles_loops(
    runtime: Runtime, http_client: httpx.AsyncClient
) -> None:
    liveness = Liveness()
    loops = ProcessLoops(runtime, MONITOR, http_client, liveness=liveness)
    loops.start()
    try:
        refreshed = await loops.refresh.run_once()
    finally:
        await loops.stop()

    assert refreshed is not None  # SQLite or elected: this process leads
    assert liveness.failing() == []  # "monitor" beat; "delivery" is not this process's


async def test_a_standby_asks_every_standby_check_and_a_stop_hands_over_the_lead(
    runtime: Runtime, http_client: httpx.AsyncClient
) -> None:
    if runtime.database.engine.dialect.name != "postgresql":
        pytest.skip("the election is PostgreSQL's; SQLite serves one process")
    leader = ProcessLoops(runtime, MONITOR, http_client)
    standby = ProcessLoops(runtime, MONITOR, http_client)
    try:
        assert await leader.refresh.run_once() is not None
        assert await standby.refresh.run_once() is None
        intervals = (leader.refresh.interval(), standby.refresh.interval())
        await leader.stop()
        gauge_after_stop = leader_gauge()
        taken_over = await standby.refresh.run_once()
    finally:
        await leader.stop()
        await standby.stop()

    assert intervals == (runtime.settings.poll_interval_seconds, STANDBY_CHECK)
    assert gauge_after_stop == 0.0
    assert taken_over is not None
