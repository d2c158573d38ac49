"""`/healthz`: 200 while every role of the process works, 503 naming the ones that do not."""

from __future__ import annotations

import aiohttp
import pytest

from bot.errors import SentinelError
from bot.process.liveness import Liveness
from bot.process.metrics_server import serving_metrics
from tests.plugins.fleet import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_loop_is_failing_until_it_beats_and_again_once_its_beat_expires() -> None:
    clock = Clock()
    liveness = Liveness(clock)
    liveness.expect("delivery")
    assert liveness.failing() == ["delivery"]

    liveness.beat("delivery", good_for=65)
    clock.now += 60
    assert liveness.failing() == []

    clock.now += 10
    assert liveness.failing() == ["delivery"]


def test_a_check_is_asked_each_time() -> None:
    connected = False
    liveness = Liveness()
    liveness.check("gateway", lambda: connected)
    assert liveness.failing() == ["gateway"]

    connected = True
    assert liveness.failing() == []


async def test_healthz_answers_503_naming_what_fails_then_200() -> None:
    liveness = Liveness()
    liveness.expect("monitor")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with serving_metrics(liveness, "127.0.0.1", port), aiohttp.ClientSession() as http:
        async with http.get(f"{url}/healthz") as response:
            failing = (response.status, await response.text())
        liveness.beat("monitor", good_for=60)
        async with http.get(f"{url}/healthz") as response:
            working = (response.status, await response.text())
        async with http.get(f"{url}/metrics") as response:
            metrics = (response.headers["Content-Type"], await response.text())

    assert failing == (503, "not working: monitor\n")
    assert working == (200, "ok\n")
    assert metrics[0].startswith("text/plain")
    assert "# TYPE djp_sentinel_outbox_oldest_pending_age_seconds gauge" in metrics[1]


async def test_a_port_in_use_is_one_line() -> None:
    port = free_port()
    async with serving_metrics(Liveness(), "127.0.0.1", port):
        with pytest.raises(SentinelError, match=f"Cannot serve metrics on 127.0.0.1:{port}"):
            async with serving_metrics(Liveness(), "127.0.0.1", port):
                pass


async def test_metrics_speak_openmetrics_to_a_scraper_that_asks_for_it() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    openmetrics = {"Accept": "application/openmetrics-text; version=1.0.0"}
    async with serving_metrics(Liveness(), "127.0.0.1", port), aiohttp.ClientSession() as http:
        async with http.get(url, headers=openmetrics) as response:
            negotiated = (response.headers["Content-Type"], await response.text())
        async with http.get(url, headers={"Accept-Encoding": "gzip"}) as response:
            compressed = response.headers.get("Content-Encoding")

    assert negotiated[0].startswith("application/openmetrics-text")
    assert negotiated[1].endswith("# EOF\n")
    assert compressed == "gzip"
