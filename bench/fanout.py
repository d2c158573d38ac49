"""Benchmark: one release announced in 1,000 channels, through the real discord.py client.

The fake Discord enforces Discord's global limit (50 requests per second for the bot token)
and its per-channel buckets (5 posts per 5 s), with the real rate-limit headers. The outbox
holds one release alert per channel; delivery workers (`--workers`) post them all, each as a
separate process would: its own pacer at its share of the budget, from the registry of
delivery workers in the database (SQLite in a temporary file, or a fresh database on the
PostgreSQL server of `--postgresql URL`). Figures: seconds until every channel has its
alert, messages per second, 429s received, and channels left with no message or with two or
more. The floor is Discord's limit itself: `channels / rate` seconds.

    python bench/fanout.py [--channels 1000] [--rate 50] [--workers 1] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import discord
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import DEFAULT_DJP_API_URL  # noqa: E402
from bot.core.clock import utcnow  # noqa: E402
from bot.delivery import identity  # noqa: E402
from bot.delivery.pacing import Pacer, delivery_budget  # noqa: E402
from bot.delivery.registration import Registration  # noqa: E402
from bot.delivery.senders import RoutingSender  # noqa: E402
from bot.delivery.webhook import WebhookSender  # noqa: E402
from bot.delivery.worker import DeliveryReport, DeliveryWorker  # noqa: E402
from bot.discordbot.sender import DiscordSender  # noqa: E402
from bot.messages.cards import site_root  # noqa: E402
from storage.database import Database  # noqa: E402
from tests.fakes.discord_api import WEBHOOK_TEST_HOST, FakeDiscord  # noqa: E402
from tests.fakes.discord_runner import pointed_at  # noqa: E402
from tests.plugins.fleet import fresh_postgres_database  # noqa: E402
from tests.plugins.release import release_in_channels  # noqa: E402


@dataclass(frozen=True)
class Figures:
    channels: int
    workers: int
    rate: int
    seconds: float
    messages_per_second: float
    http_429: int
    channels_without_message: int
    channels_with_two_or_more: int
    floor_seconds: float
    ratio: float


async def fanout(
    channels: int, rate: int, workers: int, directory: Path, postgresql: str | None
) -> Figures:
    async with AsyncExitStack() as stack:
        url = f"sqlite+aiosqlite:///{directory / 'fanout.db'}"
        if postgresql:
            url = await stack.enter_async_context(fresh_postgres_database(postgresql))
        return await fanout_on(Database.from_url(url), channels, rate, workers)


async def fanout_on(database: Database, channels: int, rate: int, workers: int) -> Figures:
    await database.upgrade()
    async with FakeDiscord(wait_timeout=600) as fake:
        fake.rate_limits.global_rate = rate
        guild = fake.add_guild("Django Community")
        ids = await release_in_channels(database, fake, guild, channels, now=datetime.now(UTC))
        client = discord.Client(intents=discord.Intents.none())
        with pointed_at(fake):
            await client.login(fake.token)
            try:
                started = time.perf_counter()
                await deliver(database, client, rate, workers)
                seconds = time.perf_counter() - started
            finally:
                await client.close()
        counts = [len(fake.messages(channel_id)) for channel_id in ids]
        refused = sum(1 for request in fake.requests if request.status == 429)
    await database.dispose()
    floor = channels / rate
    return Figures(
        channels=channels,
        workers=workers,
        rate=rate,
        seconds=round(seconds, 2),
        messages_per_second=round(sum(counts) / seconds, 1),
        http_429=refused,
        channels_without_message=counts.count(0),
        channels_with_two_or_more=sum(1 for n in counts if n > 1),
        floor_seconds=round(floor, 2),
        ratio=round(seconds / floor, 2),
    )


async def deliver(database: Database, client: discord.Client, rate: int, workers: int) -> None:
    """Run `workers` delivery workers, each pacing at its share of the budget, until the
    outbox is empty."""
    budget = delivery_budget(rate)
    async with httpx.AsyncClient(timeout=10) as http:
        sender = RoutingSender(
            DiscordSender(client), WebhookSender(http, test_host=WEBHOOK_TEST_HOST)
        )
        team = []
        for slot in range(workers):
            pacer, worker = Pacer(budget), identity.current(slot)
            registration = Registration(
                database, pacer, budget=budget, clock=utcnow, delivery_interval=5, worker=worker
            )
            await registration.beat()  # every worker registered before the first post
            delivery = DeliveryWorker(
                database,
                sender,
                site_url=site_root(DEFAULT_DJP_API_URL),
                pacer=pacer,
                worker=worker,
            )
            team.append((delivery, registration))
        reports = await asyncio.gather(*(one_pass(*member) for member in team))
    assert all(report.failed == 0 for report in reports), reports


async def one_pass(worker: DeliveryWorker, registration: Registration) -> DeliveryReport:
    async with registration.beating():
        return await worker.run_once()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=50, help="DISCORD_GLOBAL_RATE, enforced")
    parser.add_argument("--workers", type=int, default=1, help="delivery workers sharing it")
    parser.add_argument("--postgresql", metavar="URL", help="a PostgreSQL server to run on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        figures = asyncio.run(
            fanout(args.channels, args.rate, args.workers, Path(directory), args.postgresql)
        )
    print(json.dumps(asdict(figures)))


if __name__ == "__main__":
    main()
