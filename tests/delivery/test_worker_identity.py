"""Delivery workers' names on their claims, and which claimants count as gone."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace

from bot.delivery import identity
from bot.delivery.identity import WorkerId


def test_a_name_reads_back_as_the_same_worker() -> None:
    worker = identity.current(3)
    assert WorkerId.parse(str(worker)) == worker
    assert WorkerId.parse("not a worker") is None
    assert WorkerId.parse("host:12:abc:x") is None


def test_workers_of_one_process_never_take_each_others_claims() -> None:
    first, second = identity.current(0), identity.current(1)
    assert not first.is_orphan(second)
    assert not first.is_orphan(first)


def test_an_earlier_life_of_this_pid_is_gone() -> None:
    me = identity.current()
    assert me.is_orphan(replace(me, token="before-the-restart"))


async def test_a_process_that_ended_on_this_host_is_gone_one_elsewhere_is_trusted() -> None:
    ended = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await ended.wait()
    me = identity.current()
    assert me.is_orphan(WorkerId(me.host, ended.pid, "t"))
    assert not me.is_orphan(WorkerId("another-host", ended.pid, "t"))
