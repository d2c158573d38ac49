"""Fixtures for the whole bot: a `SentinelBot` on the real database, the fake Django Packages
and the fake Discord, with a clock the test moves instead of waiting.

async def test_something(sentinel, discord_scene, clock):
    record = await discord_scene.fake.run_command("package", {"slug": "django-flatblocks"})
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest

from bot.app.runtime import Runtime, monitor_settings
from bot.config import Settings
from bot.delivery.pacing import Pacer, delivery_budget
from bot.delivery.worker import DeliveryReport
from bot.discordbot.bot import SentinelBot
from bot.djp.client import DjangoPackagesClient
from bot.refresh.advisories import AdvisoryWatch
from bot.refresh.monitor import Monitor
from bot.refresh.pypi_pass import SourcesPass
from storage.database import Database
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_interactions import InteractionRecord
from tests.fakes.discord_models import FakeChannel, PostedMessage
from tests.fakes.discord_runner import BotStarter, DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.database import open_database

if TYPE_CHECKING:
    from cogs.background import Background

#: Long enough that the loops run once at start and then only when a test drives them.
IDLE_INTERVAL = 3600.0
#: Time enough for every watched package and grid to fall due again.
NEXT_CYCLE = timedelta(seconds=IDLE_INTERVAL, minutes=1)

BotFactory = Callable[..., SentinelBot]


class SteppingClock:
    """The real time, plus however far the test has moved it on."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, span: timedelta) -> None:
        self.offset += span

    def until_hour(self, hour: int) -> timedelta:
        """How long until the clock next reads `hour`:00 UTC."""
        now = self()
        at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
        return at - now if at > now else at + timedelta(days=1) - now


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def app_settings(djp_settings: Settings) -> Settings:
    return djp_settings.model_copy(update={"poll_interval_seconds": IDLE_INTERVAL})


@pytest.fixture
def advisory_watch(
    request: pytest.FixtureRequest, database: Database, clock: SteppingClock
) -> AdvisoryWatch | None:
    """The OSV poll of the bot under test: off, unless the test is marked `osv` (then on the
    fake OSV, `osv_api`, at the bot's poll interval)."""
    if request.node.get_closest_marker("osv") is None:
        return None
    client = request.getfixturevalue("osv_client")
    return AdvisoryWatch(client, database, interval=timedelta(seconds=IDLE_INTERVAL), clock=clock)


@pytest.fixture
def runtime(
    app_settings: Settings,
    database: Database,
    djp_client: DjangoPackagesClient,
    clock: SteppingClock,
    advisory_watch: AdvisoryWatch | None,
    sources: SourcesPass | None,
) -> Runtime:
    monitor = Monitor(djp_client, database, monitor_settings(app_settings), clock=clock)
    pacer = Pacer(delivery_budget(app_settings.discord_global_rate))
    return Runtime(
        app_settings,
        database,
        djp_client,
        monitor,
        clock,
        pacer,
        advisories=advisory_watch,
        sources=sources,
    )


@pytest.fixture
async def other_database(database: Database, tmp_path: Path) -> AsyncIterator[Database]:
    """A second, empty database on the backend of `database` (e.g. to import into)."""
    directory = tmp_path / "other"
    directory.mkdir()
    async with open_database(database.engine.dialect.name, directory) as empty:
        yield empty


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def make_bot(runtime: Runtime, http_client: httpx.AsyncClient) -> BotFactory:
    """Builds a bot on the shared runtime; pass `delivery_interval` to let delivery run alone."""

    def make(delivery_interval: float = IDLE_INTERVAL) -> SentinelBot:
        return SentinelBot(
            runtime, http_client, delivery_interval=delivery_interval, guild_ready_timeout=0.05
        )

    return make


@pytest.fixture
async def sentinel(make_bot: BotFactory, start_bot: BotStarter) -> SentinelBot:
    """A running bot, connected to the fake Discord.

    `make_bot` comes first so the database outlives the bot: fixtures are torn down in reverse.
    """
    bot = await start_bot(make_bot())
    assert isinstance(bot, SentinelBot)
    return bot


def background(bot: SentinelBot) -> Background:
    """The cog whose passes a test drives instead of waiting for the loops."""
    cog = bot.get_cog("Background")
    assert cog is not None, "cogs.background is not loaded"
    return cast("Background", cog)  # extensions are imported afresh: no isinstance


async def next_cycle(
    bot: SentinelBot, clock: SteppingClock, span: timedelta = NEXT_CYCLE
) -> DeliveryReport:
    """Time moves on by `span`; the bot refreshes what fell due and delivers what it found."""
    clock.advance(span)
    await background(bot).poll_once()
    return await background(bot).deliver_once()


def alerts_in(fake: FakeDiscord, channel_id: int) -> list[PostedMessage]:
    """Messages the bot posted on its own in a channel (not answers to commands)."""
    return [m for m in fake.messages(channel_id) if m.interaction_id is None]


@dataclass(frozen=True)
class Stage:
    """A running bot, the Discord scene it serves and the clock the test moves on."""

    scene: DiscordScene
    bot: SentinelBot
    clock: SteppingClock

    async def next_cycle(self, span: timedelta = NEXT_CYCLE) -> DeliveryReport:
        """Time moves on by `span`; the bot refreshes what fell due and delivers what it found."""
        return await next_cycle(self.bot, self.clock, span)

    def alerts(self, channel: FakeChannel | None = None) -> list[PostedMessage]:
        """What the bot posted on its own in #alerts (or `channel`)."""
        return alerts_in(self.scene.fake, (channel or self.scene.alerts).id)


@pytest.fixture
def stage(discord_scene: DiscordScene, sentinel: SentinelBot, clock: SteppingClock) -> Stage:
    return Stage(discord_scene, sentinel, clock)


def enabled(message: PostedMessage) -> dict[str, bool]:
    """Whether each button of a message can be clicked, by custom id."""
    return {
        item["custom_id"]: not item.get("disabled", False)
        for row in message.components
        for item in row["components"]
    }


def attachment(record: InteractionRecord) -> tuple[str, bytes]:
    """The name and content of the one file attached to a command's answer."""
    assert record.reply is not None
    [attached] = record.attachments
    return attached["filename"], record.reply.files[attached["filename"]]


def grow_flatpages(djp_api: FakeDjangoPackages, widgets: list[dict[str, Any]]) -> None:
    """Upstream adds `widgets` to the Flatpages grid (48), beside django-flatblocks (265)."""
    for payload in widgets:
        djp_api.add_package(payload)
    djp_api.set_grid_members(48, [265, *(w["id"] for w in widgets)])


def package_copies(
    template: dict[str, Any], count: int, title: str = "Django Widget {index}"
) -> list[dict[str, Any]]:
    """`count` distinct packages shaped like `template`: ids from 90,000, slugs
    django-widget-N, titles from `title`."""
    copies = []
    for index in range(count):
        payload = copy.deepcopy(template)
        payload.update(
            id=90_000 + index, slug=f"django-widget-{index}", title=title.format(index=index)
        )
        copies.append(payload)
    return copies
