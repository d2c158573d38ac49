"""Delivery workers' names on their claims, and which claimants count as gone."""

from __future__ import annotations

import asyncio
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

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


UNSHARE = shutil.which("unshare")
ROOT = Path(__file__).resolve().parents[2]
#: Prints this process's worker name (as pid 1 of a fresh pid namespace), or, given another
#: worker's name, whether this one would take that worker's claims back.
CONTAINER_WORKER = (
    "import sys\n"
    "from bot.delivery import identity\n"
    "from bot.delivery.identity import WorkerId\n"
    "me = identity.current()\n"
    "print(me, flush=True)\n"
    "if len(sys.argv) > 1:\n"
    "    print(me.is_orphan(WorkerId.parse(sys.argv[1])))\n"
    "else:\n"
    "    sys.stdin.read()  # stay alive until the test is done\n"
)


async def in_own_container(*args: str) -> asyncio.subprocess.Process:
    """This interpreter as pid 1 of a pid namespace of its own, on this host name: what
    two containers of one compose service with a fixed `hostname:` look like."""
    assert UNSHARE is not None
    return await asyncio.create_subprocess_exec(
        UNSHARE,
        "--pid",
        "--fork",
        "--mount-proc",
        sys.executable,
        "-c",
        CONTAINER_WORKER,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )


@pytest.mark.skipif(UNSHARE is None, reason="needs util-linux unshare")
async def test_workers_in_two_containers_with_one_host_name_keep_their_claims() -> None:
    first = await in_own_container()
    assert first.stdout is not None
    assert first.stdin is not None
    try:
        line = await asyncio.wait_for(first.stdout.readline(), 30)
        if not line:
            pytest.skip("this machine does not allow new pid namespaces")
        first_name = line.decode().strip()

        second = await in_own_container(first_name)
        out, err = await asyncio.wait_for(second.communicate(), 30)
    finally:
        first.stdin.close()
        await first.wait()

    second_name, verdict = out.decode().split()
    first_id, second_id = WorkerId.parse(first_name), WorkerId.parse(second_name)
    assert first_id is not None
    assert second_id is not None
    assert (first_id.pid, second_id.pid) == (1, 1)  # both pid 1, on one host name
    assert first_id.host.split("/")[0] == second_id.host.split("/")[0]
    assert verdict == "False", err.decode()  # the live worker's claims stay with it
