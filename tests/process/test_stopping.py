"""SIGTERM while Discord cannot be reached: the real `djp-sentinel run --role gateway` in a
subprocess, its Discord gone mid-session, so that discord.py waits between reconnect attempts
(waits that double, at random, up to 17 minutes: longer than a supervisor's stop grace)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.fleet import fleet_on, free_port, until

#: A reconnect wait that outlasts the process's stop by far (a few seconds after SIGTERM).
LONG_WAIT = 15.0
RECONNECT_WAIT = re.compile(r"Attempting a reconnect for shard ID 0 in (\d+\.\d+)s")


def long_reconnect_wait(log: Path) -> float | None:
    """The wait discord.py began last, if it is a long one."""
    waits = [float(w) for w in RECONNECT_WAIT.findall(log.read_text())]
    return waits[-1] if waits and waits[-1] > LONG_WAIT else None


async def test_sigterm_while_discord_is_unreachable_stops_the_gateway_before_it_retries(
    tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sentinel.db'}"
    port = free_port()
    fake = FakeDiscord(port=port)
    async with fleet_on(url, tmp_path, fake, djp_api) as processes:
        async with fake:
            gateway = await processes.start("gateway", "gateway", DISCORD_TOKEN=fake.token)
            await until(lambda: len(fake.gateway.live) == 1, "the session", 60)
        await until(lambda: long_reconnect_wait(gateway.log), "a long reconnect wait", 300)
        wait = long_reconnect_wait(gateway.log)
        assert wait is not None
        gateway.process.terminate()
        code = await asyncio.wait_for(gateway.process.wait(), wait - 2)

    log = gateway.log.read_text()
    assert code == 0, log
    assert "the gateway was still reconnecting" in log
    assert "WARNING discord.shard: Attempting a reconnect for shard ID 0" in log
    assert "Traceback" not in log  # discord.py's reconnect failures are one line each
