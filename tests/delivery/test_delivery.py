"""Delivery end to end: a real database, real httpx, and the fake Discord's webhook route."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.config import DEFAULT_DJP_API_URL
from bot.core.alerting import NewAlert
from bot.core.events import Change, Event
from bot.core.records import parse_package
from bot.delivery import identity
from bot.delivery.senders import Destination, Message, RoutingSender, Sender
from bot.delivery.webhook import WebhookSender
from bot.delivery.worker import LEASE, DeliveryWorker
from bot.messages.cards import package_page, site_root
from bot.refresh.audience import Followed, alerts_for
from storage import outbox, subscriptions
from storage.database import Database
from storage.models import Alert, AlertStatus, Subscription
from tests.fakes.discord_api import WEBHOOK_TEST_HOST, FakeDiscord
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.discord_state import FakeWebhook
from tests.plugins.data import seed_package
from tests.plugins.database import follow
from tests.plugins.packages import store_records

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
SITE = site_root(DEFAULT_DJP_API_URL)
FLATBLOCKS = 265
HOOK_ROUTE = "POST /webhooks/"


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RecordingSender:
    """A stand-in bot sender: records what it was asked to post."""

    posted: list[tuple[Destination, Message]] = field(default_factory=list)

    async def send(self, destination: Destination, message: Message) -> int:
        self.posted.append((destination, message))
        return len(self.posted)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hook(discord_scene: DiscordScene) -> FakeWebhook:
    return discord_scene.fake.create_webhook(discord_scene.alerts.id)


@pytest.fixture
async def stored(database: Database) -> None:
    """django-flatblocks is a stored package, so alerts can link to its page."""
    async with database.transaction() as session:
        record = parse_package(seed_package("django-flatblocks"))
        await store_records(session, [record], now=NOW)


def worker_for(
    database: Database,
    http: httpx.AsyncClient,
    clock: Clock,
    *,
    bot: Sender | None = None,
    max_attempts: int = 8,
    batch_size: int = 200,
) -> DeliveryWorker:
    sender = RoutingSender(bot, WebhookSender(http, test_host=WEBHOOK_TEST_HOST))
    return DeliveryWorker(
        database,
        sender,
        site_url=SITE,
        clock=clock,
        max_attempts=max_attempts,
        webhooks_only=bot is None,
        batch_size=batch_size,
    )


async def subscribe(
    database: Database,
    scene: DiscordScene,
    *,
    target_id: int = FLATBLOCKS,
    webhook_url: str | None = None,
    role_id: int | None = None,
) -> int:
    """Follow a package in #alerts (through a webhook if given), as the manager; the id."""
    return await follow(
        database,
        scene.alerts.id,
        target_id,
        guild=scene.guild.id,
        created_by=scene.manager.id,
        role_id=role_id,
        webhook_url=webhook_url,
    )


async def enqueue(
    database: Database,
    scene: DiscordScene,
    subscription_id: int,
    count: int = 1,
    *,
    summary: str = "django-flatblocks {version} released (patch release, was 1.0.0)",
    package_id: int = FLATBLOCKS,
    at: datetime = NOW,
) -> None:
    alerts = []
    for n in range(count):
        version = f"1.0.{n + 1}"
        alerts.append(
            NewAlert(
                subscription_id=subscription_id,
                guild_id=scene.guild.id,
                channel_id=scene.alerts.id,
                event="release",
                dedup_key=f"{scene.alerts.id}:{package_id}:{subscription_id}:release:{version}",
                summary=summary.format(version=version),
                payload={
                    "old": "1.0.0",
                    "new": version,
                    "kind": "new",
                    "level": "patch",
                    "prerelease": False,
                },
                package_id=package_id,
            )
        )
    async with database.transaction() as session:
        await outbox.enqueue(session, alerts, now=at)


async def alerts_in(database: Database) -> list[Alert]:
    async with database.session() as session:
        return list(await session.scalars(select(Alert).order_by(Alert.id)))


async def subscription(database: Database, subscription_id: int) -> Subscription:
    async with database.session() as session:
        found = await session.get(Subscription, subscription_id)
        assert found is not None
        return found


def webhook_posts(fake: FakeDiscord) -> int:
    return sum(1 for r in fake.requests if f"{r.method} {r.path}".startswith(HOOK_ROUTE))


@pytest.mark.usefixtures("stored")
async def test_a_channels_alerts_arrive_as_the_fewest_messages_and_are_marked_sent(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    fake = discord_scene.fake
    sub = await subscribe(database, discord_scene, webhook_url=hook.url)
    await enqueue(database, discord_scene, sub, 23)

    report = await worker_for(database, http, clock).run_once()

    posted = fake.messages(discord_scene.alerts.id)
    assert [len(m.embeds) for m in posted] == [10, 10, 3]
    assert (report.messages, report.sent) == (3, 23)
    assert (
        posted[0].embeds[0]["title"]
        == "django-flatblocks 1.0.1 released (patch release, was 1.0.0)"
    )
    assert posted[0].embeds[0]["url"] == package_page(SITE, "django-flatblocks")
    assert all(m.mentions.nobody and m.webhook_id == hook.id for m in posted)
    stored = await alerts_in(database)
    assert {a.status for a in stored} == {AlertStatus.SENT}
    by_message = [[a.message_id for a in stored[i : i + 10]] for i in (0, 10, 20)]
    assert by_message == [[m.id] * len(m.embeds) for m in posted]
    assert fake.violations == []


@pytest.mark.usefixtures("stored")
async def test_nothing_is_posted_twice_even_after_a_restart(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    sub = await subscribe(database, discord_scene, webhook_url=hook.url)
    await enqueue(database, discord_scene, sub, 12)
    await worker_for(database, http, clock).run_once()

    again = await worker_for(database, http, clock).run_once()
    clock.advance(seconds=LEASE.total_seconds() * 3)
    restarted = await worker_for(database, http, clock).run_once()

    assert again.messages == restarted.messages == 0
    assert len(discord_scene.fake.messages(discord_scene.alerts.id)) == 2


async def test_a_stopped_worker_gives_its_claims_back_for_the_next_pass(
    database: Database, discord_scene: DiscordScene, http, clock
) -> None:
    class Stops:
        async def send(self, destination: Destination, message: Message) -> int:
            raise asyncio.CancelledError

    sub = await subscribe(database, discord_scene)
    await enqueue(database, discord_scene, sub, 2)
    with pytest.raises(asyncio.CancelledError):
        await DeliveryWorker(database, Stops(), site_url=SITE, clock=clock).run_once()

    bot = RecordingSender()
    assert (await worker_for(database, http, clock, bot=bot).run_once()).sent == 2


async def claimed_by(database: Database, worker: str, clock: Clock) -> None:
    async with database.transaction() as session:
        claimed = await outbox.claim_due(
            session, worker=worker, now=clock(), lease_until=clock() + LEASE
        )
    assert claimed


async def test_claims_of_a_worker_that_died_on_this_host_are_taken_back_at_once(
    database: Database, discord_scene: DiscordScene, http, clock
) -> None:
    sub = await subscribe(database, discord_scene)
    await enqueue(database, discord_scene, sub, 2)
    finished = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await finished.wait()
    me = identity.current()
    await claimed_by(database, str(replace(me, pid=finished.pid, token="gone")), clock)

    bot = RecordingSender()
    assert (await worker_for(database, http, clock, bot=bot).run_once()).sent == 2


async def test_claims_of_a_worker_elsewhere_wait_for_its_short_lease(
    database: Database, discord_scene: DiscordScene, http, clock
) -> None:
    sub = await subscribe(database, discord_scene)
    await enqueue(database, discord_scene, sub, 2)
    await claimed_by(database, "another-host:4242:abcd", clock)

    bot = RecordingSender()
    assert (await worker_for(database, http, clock, bot=bot).run_once()).messages == 0
    clock.advance(seconds=LEASE.total_seconds())
    assert (await worker_for(database, http, clock, bot=bot).run_once()).sent == 2


@pytest.mark.usefixtures("stored")
async def test_server_errors_are_retried_with_growing_waits_then_delivered(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    fake = discord_scene.fake
    sub = await subscribe(database, discord_scene, webhook_url=hook.url)
    await enqueue(database, discord_scene, sub, 3)
    worker = worker_for(database, http, clock)
    fake.fail_next(HOOK_ROUTE, 502, times=2)

    first = await worker.run_once()
    assert (first.messages, first.retrying) == (0, 3)
    clock.advance(seconds=29)
    await worker.run_once()
    assert webhook_posts(fake) == 1  # not due yet
    clock.advance(seconds=1)
    await worker.run_once()
    assert webhook_posts(fake) == 2  # second failure: the wait doubles
    clock.advance(seconds=59)
    await worker.run_once()
    assert webhook_posts(fake) == 2
    clock.advance(seconds=1)
    last = await worker.run_once()

    assert (last.messages, last.sent) == (1, 3)
    assert [len(m.embeds) for m in fake.messages(discord_scene.alerts.id)] == [3]
    assert {(a.status, a.attempts) for a in await alerts_in(database)} == {(AlertStatus.SENT, 3)}
    assert fake.violations == []


async def test_alerts_fail_for_good_after_the_last_attempt(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    fake = discord_scene.fake
    sub = await subscribe(database, discord_scene, webhook_url=hook.url)
    await enqueue(database, discord_scene, sub)
    worker = worker_for(database, http, clock, max_attempts=2)
    fake.fail_next(HOOK_ROUTE, 503, times=5)

    await worker.run_once()
    clock.advance(minutes=1)
    report = await worker.run_once()
    clock.advance(hours=2)
    await worker.run_once()

    assert report.failed == 1
    assert webhook_posts(fake) == 2
    (alert,) = await alerts_in(database)
    assert (alert.status, alert.attempts) == (AlertStatus.FAILED, 2)
    assert "503" in (alert.last_error or "")


@pytest.mark.parametrize(
    ("break_it", "status"),
    [
        (lambda fake, scene: fake.fail_next(HOOK_ROUTE, 403), "403"),
        (lambda fake, scene: fake.delete_channel(scene.alerts.id), "404"),
    ],
    ids=["forbidden", "deleted"],
)
async def test_an_unreachable_channel_pauses_its_subscriptions_and_stops_retrying(
    database: Database,
    discord_scene: DiscordScene,
    hook: FakeWebhook,
    http,
    clock,
    break_it,
    status: str,
) -> None:
    fake = discord_scene.fake
    sub = await subscribe(database, discord_scene, webhook_url=hook.url)
    other = await subscribe(database, discord_scene, target_id=999, webhook_url=hook.url)
    await enqueue(database, discord_scene, sub, 12)
    await enqueue(database, discord_scene, other, 1, package_id=999, summary="other {version}")
    break_it(fake, discord_scene)

    report = await worker_for(database, http, clock).run_once()
    clock.advance(hours=2)
    await worker_for(database, http, clock).run_once()

    assert webhook_posts(fake) == 1
    assert list(report.paused) == [discord_scene.alerts.id]
    for paused in (sub, other):
        reason = (await subscription(database, paused)).paused_reason or ""
        assert status in reason
        assert "subscribe" in reason  # says what to do
    assert {a.status for a in await alerts_in(database)} == {
        AlertStatus.FAILED,
        AlertStatus.DROPPED,
    }
    assert fake.violations == []


async def test_a_paused_subscription_gets_no_new_alerts(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    sub = await subscribe(database, discord_scene, webhook_url=hook.url)
    await enqueue(database, discord_scene, sub)
    discord_scene.fake.fail_next(HOOK_ROUTE, 403)
    await worker_for(database, http, clock).run_once()

    change = Change(Event.RELEASE, FLATBLOCKS, f"{FLATBLOCKS}:release:2.0", "x 2.0 released")
    async with database.session() as session:
        audience = await subscriptions.subscriptions_for_packages(session, [FLATBLOCKS])
    assert alerts_for([change], audience, by=Followed.PACKAGE) == []


@pytest.mark.usefixtures("stored")
async def test_only_the_configured_role_is_pinged_once_per_delivery(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    role = discord_scene.guild.add_role("Releases", mentionable=True)
    sub = await subscribe(database, discord_scene, webhook_url=hook.url, role_id=role.id)
    await enqueue(database, discord_scene, sub, 12, summary="@everyone <@&1> {version} @here")

    await worker_for(database, http, clock).run_once()

    first, second = discord_scene.fake.messages(discord_scene.alerts.id)
    assert first.content == role.mention
    assert (first.mentions.everyone, first.mentions.users, first.mentions.roles) == (
        False,
        frozenset(),
        frozenset({role.id}),
    )
    assert second.mentions.nobody
    assert discord_scene.fake.violations == []


async def test_alerts_of_one_channel_share_messages_when_their_role_is_the_same(
    database: Database, discord_scene: DiscordScene, http, clock
) -> None:
    bot = RecordingSender()
    role = discord_scene.guild.add_role("Releases")
    plain = [await subscribe(database, discord_scene, target_id=pid) for pid in (1, 2)]
    pinged = await subscribe(database, discord_scene, target_id=3, role_id=role.id)
    for sub, pid in zip([*plain, pinged], (1, 2, 3), strict=True):
        await enqueue(database, discord_scene, sub, 2, package_id=pid)

    await worker_for(database, http, clock, bot=bot).run_once()

    shapes = [(len(m["embeds"]), m.get("content")) for _, m in bot.posted]
    assert shapes == [(4, None), (2, role.mention)]
    assert {d for d, _ in bot.posted} == {
        Destination(discord_scene.guild.id, discord_scene.alerts.id)
    }


@pytest.mark.usefixtures("stored")
async def test_upstream_text_pings_nobody_and_shows_literally(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    nasty = "@everyone **bold** <@123> _x_ @here `code` {version}"
    sub = await subscribe(database, discord_scene, webhook_url=hook.url)
    await enqueue(database, discord_scene, sub, summary=nasty)

    await worker_for(database, http, clock).run_once()

    (message,) = discord_scene.fake.messages(discord_scene.alerts.id)
    title = message.embeds[0]["title"]
    assert message.mentions.nobody
    assert "@everyone" not in title
    assert "<@123>" not in title
    assert shown(title) == nasty.format(version="1.0.1")


def shown(markdown: str) -> str:
    """What Discord displays for escaped text: backslash escapes and zero-width spaces gone."""
    return "".join(
        char
        for index, char in enumerate(markdown)
        if char != "\u200b" and not (char == "\\" and markdown[index + 1 : index + 2] != "\\")
    )


async def test_oversized_upstream_text_is_cut_to_discords_limits(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    sub = await subscribe(database, discord_scene, webhook_url=hook.url)
    await enqueue(database, discord_scene, sub, 25, summary="{version} " + "x" * 5000)

    report = await worker_for(database, http, clock).run_once()

    posted = discord_scene.fake.messages(discord_scene.alerts.id)
    assert report.sent == 25
    assert sum(len(m.embeds) for m in posted) == 25
    assert all(len(e["title"]) <= 256 and e["title"].endswith("…") for e in posted[0].embeds)
    assert discord_scene.fake.violations == []


async def test_without_a_bot_only_webhook_alerts_are_claimed_and_a_bot_takes_the_rest_at_once(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    by_bot = await subscribe(database, discord_scene, target_id=1)
    by_hook = await subscribe(database, discord_scene, target_id=2, webhook_url=hook.url)
    await enqueue(database, discord_scene, by_bot, 2, package_id=1)
    await enqueue(database, discord_scene, by_hook, 3, package_id=2)

    headless = await worker_for(database, http, clock).run_once()
    bot = RecordingSender()
    with_bot = await worker_for(database, http, clock, bot=bot).run_once()

    assert (headless.sent, headless.waiting) == (3, 0)
    assert [len(m.embeds) for m in discord_scene.fake.messages(discord_scene.alerts.id)] == [3]
    assert with_bot.sent == 2
    assert [d.webhook_url for d, _ in bot.posted] == [None]
    assert {(a.status, a.attempts) for a in await alerts_in(database)} == {(AlertStatus.SENT, 1)}


async def test_alerts_of_a_removed_subscription_are_dropped(
    database: Database, discord_scene: DiscordScene, http, clock
) -> None:
    sub = await subscribe(database, discord_scene)
    await enqueue(database, discord_scene, sub, 2)
    async with database.transaction() as session:
        await subscriptions.unsubscribe(
            session, channel_id=discord_scene.alerts.id, target_kind="package", target_id=FLATBLOCKS
        )
    bot = RecordingSender()

    report = await worker_for(database, http, clock, bot=bot).run_once()

    assert (report.dropped, bot.posted) == (2, [])
    assert {a.status for a in await alerts_in(database)} == {AlertStatus.DROPPED}


async def test_a_broken_sender_delays_its_channel_but_not_the_others(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    class Broken:
        async def send(self, destination: Destination, message: Message) -> int:
            raise RuntimeError("bug")

    by_bot = await subscribe(database, discord_scene, target_id=1)
    by_hook = await subscribe(database, discord_scene, target_id=2, webhook_url=hook.url)
    await enqueue(database, discord_scene, by_bot, package_id=1)
    await enqueue(database, discord_scene, by_hook, package_id=2)

    report = await worker_for(database, http, clock, bot=Broken()).run_once()

    assert (report.sent, report.retrying) == (1, 1)
    assert len(discord_scene.fake.messages(discord_scene.alerts.id)) == 1


@pytest.mark.usefixtures("stored")
async def test_a_message_discord_refuses_is_sent_alert_by_alert_and_only_the_bad_one_fails(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    fake = discord_scene.fake
    role = discord_scene.guild.add_role("Releases", mentionable=True)
    sub = await subscribe(database, discord_scene, webhook_url=hook.url, role_id=role.id)
    await enqueue(database, discord_scene, sub, 3)
    fake.fail_next(HOOK_ROUTE, 400, times=2)  # the packed message, then the first alert alone

    report = await worker_for(database, http, clock).run_once()

    first, second = fake.messages(discord_scene.alerts.id)
    assert [len(m.embeds) for m in (first, second)] == [1, 1]
    assert first.mentions.roles == frozenset({role.id})  # the role is pinged once
    assert second.mentions.nobody
    assert (report.sent, report.failed, report.retrying) == (2, 1, 0)
    statuses = [(a.status, a.attempts) for a in await alerts_in(database)]
    assert statuses[0][0] == AlertStatus.FAILED
    assert statuses[1:] == [(AlertStatus.SENT, 1)] * 2
    assert "400" in ((await alerts_in(database))[0].last_error or "")


@pytest.mark.usefixtures("stored")
async def test_a_refused_message_fails_at_once_without_holding_back_the_next(
    database: Database, discord_scene: DiscordScene, hook: FakeWebhook, http, clock
) -> None:
    fake = discord_scene.fake
    sub = await subscribe(database, discord_scene, webhook_url=hook.url)
    await enqueue(database, discord_scene, sub, 13)  # two messages: 10 alerts, then 3
    fake.fail_next(HOOK_ROUTE, 400, times=11)  # the first message, and each of its alerts

    report = await worker_for(database, http, clock).run_once()
    clock.advance(hours=2)
    again = await worker_for(database, http, clock).run_once()

    assert [len(m.embeds) for m in fake.messages(discord_scene.alerts.id)] == [3]
    assert (report.sent, report.failed, report.retrying) == (3, 10, 0)
    assert again.messages == 0  # nothing retried
    assert webhook_posts(fake) == 12


async def test_a_noisy_server_does_not_hold_back_a_quiet_one(
    database: Database,
    discord_scene: DiscordScene,
    http: httpx.AsyncClient,
    clock: Clock,
    stored: None,
) -> None:
    """60 alerts in one server and 1 in another (whose channel sorts last): the quiet one goes
    out with the first batch, not after the noisy server's last (it was seventh of seven)."""
    noisy = discord_scene
    guild = noisy.fake.add_guild("Quiet server")
    quiet = replace(noisy, guild=guild, alerts=guild.add_text_channel("alerts"))
    await enqueue(database, noisy, await subscribe(database, noisy), 60)
    await enqueue(database, quiet, await subscribe(database, quiet), 1)
    bot = RecordingSender()

    report = await worker_for(database, http, clock, bot=bot, batch_size=20).run_once()

    assert report.sent == 61
    posted_to = [destination.guild_id for destination, _ in bot.posted]
    assert posted_to.count(guild.id) == 1
    assert posted_to.index(guild.id) < 3  # the first batch: 20 alerts in 2 posts, and its own
