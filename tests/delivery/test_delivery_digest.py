"""Digests and daily caps end to end: a real database, a webhook on the fake Discord, and a
clock the tests move by hand. Every `deliver()` runs a new worker, as after a restart."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.core.alerting import NewAlert
from bot.core.events import ReleaseLevel
from bot.core.records import parse_package
from bot.delivery.senders import DeliveryFailed, Destination, Message, Sender
from bot.delivery.webhook import WebhookSender
from bot.delivery.worker import LEASE, DeliveryReport, DeliveryWorker
from bot.messages.limits import embed_size
from storage import outbox
from storage.database import Database
from storage.models import AlertStatus
from tests.delivery.test_delivery import SITE, Clock, alerts_in, subscribe, worker_for
from tests.fakes.discord_api import WEBHOOK_TEST_HOST
from tests.fakes.discord_models import PostedMessage
from tests.fakes.discord_runner import DiscordScene
from tests.plugins.data import seed_package
from tests.plugins.database import configure, follow
from tests.plugins.packages import store_records

FRIDAY = datetime(2026, 2, 20, 10, 0, tzinfo=UTC)
#: The first daily digest at hour 9 the alerts of FRIDAY wait for.
SATURDAY_9 = datetime(2026, 2, 21, 9, 0, tzinfo=UTC)
FLATBLOCKS, REGISTRATION = 265, 4100
SLUGS = {FLATBLOCKS: "django-flatblocks", REGISTRATION: "django-rest-registration"}


@dataclass
class Channel:
    """#alerts, following packages through a webhook, with helpers to feed and drain it."""

    database: Database
    scene: DiscordScene
    http: httpx.AsyncClient
    clock: Clock
    hook_url: str
    subscription_id: int
    keys: itertools.count[int]
    #: Alerts `add` holds back while `together()` is open.
    held: list[NewAlert] | None = None

    async def settings(self, **changes: Any) -> None:
        await configure(
            self.database,
            self.scene.alerts.id,
            guild=self.scene.guild.id,
            updated_by=None,
            now=self.clock(),
            **changes,
        )

    async def add(
        self,
        event: str,
        summary: str,
        package_id: int | None = FLATBLOCKS,
        *,
        subscription_id: int | None = None,
        release_level: ReleaseLevel | None = None,
        **payload: Any,
    ) -> None:
        """Enqueue one alert, created now (by the fixture's subscription unless told)."""
        key = f"{self.scene.alerts.id}:{event}:{next(self.keys)}"
        alert = NewAlert(
            subscription_id=subscription_id or self.subscription_id,
            guild_id=self.scene.guild.id,
            channel_id=self.scene.alerts.id,
            event=event,
            dedup_key=key,
            summary=summary,
            payload=payload,
            package_id=package_id,
            grid_id=payload.get("grid_id"),
            release_level=release_level,
        )
        if self.held is not None:
            self.held.append(alert)
            return
        async with self.database.transaction() as session:
            await outbox.enqueue(session, [alert], now=self.clock())

    @asynccontextmanager
    async def together(self) -> AsyncIterator[None]:
        """Alerts added inside are enqueued at once on exit, as one poll cycle would."""
        self.held = []
        yield
        alerts, self.held = self.held, None
        async with self.database.transaction() as session:
            await outbox.enqueue(session, alerts, now=self.clock())

    async def release(
        self,
        version: str,
        level: ReleaseLevel = "patch",
        package_id: int = FLATBLOCKS,
        tail: str = "",
    ) -> None:
        summary = f"{SLUGS[package_id]} {version} released ({level} release){tail}"
        data: dict[str, Any] = {"new": version, "kind": "new", "level": level, "prerelease": False}
        await self.add("release", summary, package_id, release_level=level, **data)

    async def popularity(self, stars: int, package_id: int = FLATBLOCKS) -> None:
        await self.add("popularity", f"{SLUGS[package_id]} reached {stars} stars", package_id)

    async def grid(self, package_id: int, direction: str) -> None:
        summary = f"{SLUGS[package_id]} {direction} the Page blocks grid"
        data: dict[str, Any] = {
            "direction": direction,
            "grid_slug": "page-blocks",
            "grid_title": "Page blocks",
        }
        await self.add("grid", summary, package_id, grid_id=7, **data)

    async def report(self) -> None:
        """Enqueue a weekly stale report, routed through the fixture's subscription."""
        stale = {"id": FLATBLOCKS, "slug": SLUGS[FLATBLOCKS], "reasons": ["no commits"]}
        summary = "Weekly stale report: 1 stale package among the 1 followed here"
        await self.add("stale-report", summary, None, packages=[stale])

    async def follow(self, package_id: int = FLATBLOCKS, **options: Any) -> int:
        """Follow a package through the channel's webhook, with `options` (role_id, ...); the
        id. Following FLATBLOCKS changes the fixture's subscription."""
        return await follow(
            self.database,
            self.scene.alerts.id,
            package_id,
            guild=self.scene.guild.id,
            created_by=None,
            webhook_url=self.hook_url,
            **options,
        )

    async def deliver(self) -> DeliveryReport:
        return await worker_for(self.database, self.http, self.clock).run_once()

    def messages(self) -> list[PostedMessage]:
        return self.scene.fake.messages(self.scene.alerts.id)


@pytest.fixture
async def channel(database: Database, discord_scene: DiscordScene) -> AsyncIterator[Channel]:
    hook = discord_scene.fake.create_webhook(discord_scene.alerts.id)
    async with database.transaction() as session:
        records = [parse_package(seed_package(slug)) for slug in SLUGS.values()]
        await store_records(session, records, now=FRIDAY)
    subscription_id = await subscribe(database, discord_scene, webhook_url=hook.url)
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield Channel(
            database,
            discord_scene,
            http,
            Clock(FRIDAY),
            hook.url,
            subscription_id,
            itertools.count(),
        )
    assert discord_scene.fake.violations == []


def fields(message: PostedMessage) -> dict[str, str]:
    """A digest message's fields by name (a continued field's name repeats: use `lines`)."""
    return {f["name"]: f["value"] for embed in message.embeds for f in embed.get("fields", [])}


def lines(messages: list[PostedMessage]) -> list[str]:
    """The alert lines of digest messages."""
    return [
        line
        for message in messages
        for embed in message.embeds
        for field in embed["fields"]
        for line in field["value"].splitlines()
        if line.startswith("•")
    ]


async def test_a_day_of_alerts_arrives_as_one_grouped_message_at_the_digest_hour(
    channel: Channel,
) -> None:
    await channel.settings(digest_mode="daily", digest_hour=9)
    for hour in range(23):  # Friday 10:00 to Saturday 08:00
        if hour % 3 == 0:
            await channel.release(f"1.{hour}.0", "minor")
        if hour % 7 == 0:
            await channel.popularity(100 * (hour + 1), REGISTRATION)
        await channel.deliver()
        channel.clock.advance(hours=1)
    await channel.grid(REGISTRATION, "joined")
    await channel.grid(FLATBLOCKS, "left")
    channel.clock.now = SATURDAY_9 - timedelta(seconds=1)
    assert (await channel.deliver()).messages == 0
    assert channel.messages() == []

    channel.clock.now = SATURDAY_9
    report = await channel.deliver()

    (digest,) = channel.messages()
    assert (report.messages, report.sent) == (1, 14)
    assert digest.embeds[0]["title"] == "Daily digest: 14 alerts"
    assert "footer" not in digest.embeds[-1]
    assert digest.mentions.nobody
    shown = fields(digest)
    assert list(shown) == ["django-flatblocks", "django-rest-registration", "Grid: Page blocks"]
    assert shown["django-flatblocks"].splitlines()[:3] == [
        "**release**",
        "• django-flatblocks 1.0.0 released (minor release)",
        "• django-flatblocks 1.3.0 released (minor release)",
    ]
    assert shown["django-rest-registration"].splitlines()[0] == "**popularity**"
    assert shown["Grid: Page blocks"].splitlines() == [
        "**joined**",
        "• django-rest-registration joined the Page blocks grid",
        "**left**",
        "• django-flatblocks left the Page blocks grid",
    ]
    assert {a.status for a in await alerts_in(channel.database)} == {AlertStatus.SENT}


async def test_a_weekly_digest_waits_for_its_weekday(channel: Channel) -> None:
    await channel.settings(digest_mode="weekly", digest_weekday=0, digest_hour=9)
    await channel.release("1.1.0")
    for day in range(3):  # Friday, Saturday, Sunday
        channel.clock.now = FRIDAY + timedelta(days=day, hours=-1)
        await channel.deliver()
        await channel.popularity(100 * (day + 1))
    channel.clock.now = datetime(2026, 2, 23, 8, 59, tzinfo=UTC)  # Monday
    await channel.deliver()
    assert channel.messages() == []

    channel.clock.advance(minutes=1)
    await channel.deliver()
    channel.clock.advance(days=1)
    await channel.deliver()

    (digest,) = channel.messages()
    assert digest.embeds[0]["title"] == "Weekly digest: 4 alerts"


async def test_bypassing_alerts_arrive_at_once_while_the_rest_wait(channel: Channel) -> None:
    await channel.settings(digest_mode="daily", digest_hour=9, digest_bypass=["release:major"])
    await channel.release("2.0.0", "major")
    await channel.release("2.0.1", "patch")
    await channel.popularity(500)

    await channel.deliver()
    (alone,) = channel.messages()
    assert [e["title"] for e in alone.embeds] == [
        "django-flatblocks 2.0.0 released (major release)"
    ]

    channel.clock.now = SATURDAY_9
    await channel.deliver()
    _, digest = channel.messages()
    assert digest.embeds[0]["title"] == "Daily digest: 2 alerts"


async def test_a_release_level_bypass_lets_that_level_and_above_through(
    channel: Channel,
) -> None:
    await channel.settings(digest_mode="daily", digest_hour=9, digest_bypass=["release:minor"])
    await channel.release("2.0.0", "major")
    await channel.release("2.1.0", "minor")
    await channel.release("2.1.1", "patch")
    pre: dict[str, Any] = {"new": "2.2.0rc1", "kind": "new", "level": "pre", "prerelease": True}
    await channel.add(
        "release", "django-flatblocks 2.2.0rc1 released (pre-release)", release_level="pre", **pre
    )

    await channel.deliver()

    (at_once,) = channel.messages()
    assert [e["title"] for e in at_once.embeds] == [
        "django-flatblocks 2.0.0 released (major release)",
        "django-flatblocks 2.1.0 released (minor release)",
    ]
    channel.clock.now = SATURDAY_9
    await channel.deliver()
    _, digest = channel.messages()
    assert digest.embeds[0]["title"] == "Daily digest: 2 alerts"


async def test_a_channel_switched_back_to_immediate_gets_its_waiting_alerts_next_run(
    channel: Channel,
) -> None:
    await channel.settings(digest_mode="daily", digest_hour=9)
    await channel.release("1.1.0")
    await channel.deliver()
    assert channel.messages() == []

    await channel.settings(digest_mode="immediate")
    report = await channel.deliver()

    assert report.sent == 1
    assert [len(m.embeds) for m in channel.messages()] == [1]


async def test_a_digest_pings_only_the_subscriptions_role_once(channel: Channel) -> None:
    role = channel.scene.guild.add_role("Releases", mentionable=True)
    await channel.follow(role_id=role.id)
    await channel.settings(digest_mode="daily", digest_hour=9)
    async with channel.together():
        for n in range(150):
            await channel.release(f"1.{n}.0")
    channel.clock.now = SATURDAY_9

    await channel.deliver()

    first, *rest = channel.messages()
    assert first.content == role.mention
    assert (first.mentions.roles, first.mentions.everyone) == (frozenset({role.id}), False)
    assert len(rest) > 0
    assert all(m.mentions.nobody for m in rest)


async def test_a_stale_report_in_a_digest_pings_nobody_but_news_beside_it_does(
    channel: Channel,
) -> None:
    maintainers = channel.scene.guild.add_role("Maintainers", mentionable=True)
    releases = channel.scene.guild.add_role("Releases", mentionable=True)
    await channel.follow(FLATBLOCKS, role_id=maintainers.id)  # the report's route
    registration = await channel.follow(REGISTRATION, role_id=releases.id)
    await channel.settings(digest_mode="daily", digest_hour=9)
    await channel.report()
    channel.clock.now = SATURDAY_9
    await channel.deliver()
    await channel.report()
    summary = "django-rest-registration 1.1.0 released (minor release)"
    data = {"new": "1.1.0", "kind": "new", "level": "minor", "prerelease": False}
    await channel.add(
        "release",
        summary,
        REGISTRATION,
        subscription_id=registration,
        release_level="minor",
        **data,
    )
    channel.clock.now = SATURDAY_9 + timedelta(days=1)
    await channel.deliver()

    only_report, with_news = channel.messages()
    assert only_report.embeds[0]["title"] == "Daily digest: 1 alert"
    assert (only_report.content, only_report.mentions.nobody) == ("", True)
    assert with_news.embeds[0]["title"] == "Daily digest: 2 alerts"
    assert with_news.content == releases.mention
    assert with_news.mentions.roles == frozenset({releases.id})


async def test_a_large_digest_is_split_only_as_discords_limits_force(channel: Channel) -> None:
    await channel.settings(digest_mode="daily", digest_hour=9)
    async with channel.together():
        for n in range(300):
            package_id = (FLATBLOCKS, REGISTRATION)[n % 2]
            await channel.release(f"1.{n}", package_id=package_id, tail=" " + "y" * 400)
    channel.clock.now = SATURDAY_9

    report = await channel.deliver()

    posted = channel.messages()
    assert report.sent == 300
    assert len(posted) > 1
    assert [m.embeds[-1]["footer"]["text"] for m in posted] == [
        f"digest {n}/{len(posted)}" for n in range(1, len(posted) + 1)
    ]
    assert len(set(lines(posted))) == 300
    assert all(sum(map(embed_size, m.embeds)) > 4000 for m in posted[:-1])  # full, not sparse
    assert {a.status for a in await alerts_in(channel.database)} == {AlertStatus.SENT}


async def test_nothing_is_posted_again_after_a_restart(channel: Channel) -> None:
    await channel.settings(
        digest_mode="daily", digest_hour=9, digest_bypass=["release"], daily_cap=2
    )
    for n in range(5):
        await channel.release(f"1.{n}.0")
        await channel.popularity(100 * (n + 1))
    await channel.deliver()
    channel.clock.now = SATURDAY_9
    await channel.deliver()
    assert [len(m.embeds) for m in channel.messages()] == [2, 0, 1]  # alerts, summary, digest

    for _ in range(3):
        channel.clock.advance(seconds=LEASE.total_seconds() * 2)
        assert (await channel.deliver()).messages == 0

    assert len(channel.messages()) == 3


async def test_the_daily_cap_turns_the_overflow_into_one_summary_line(channel: Channel) -> None:
    await channel.settings(daily_cap=5)
    for n in range(3):
        await channel.release(f"1.{n}.0")
    await channel.deliver()
    channel.clock.advance(hours=1)
    for n in range(6):
        await channel.release(f"1.1{n}.0")
    for n in range(3):
        await channel.popularity(100 * (n + 1))

    report = await channel.deliver()

    first, second, summary = channel.messages()
    assert [len(first.embeds), len(second.embeds)] == [3, 2]
    assert (report.sent, report.summarized) == (2, 7)
    assert summary.content == (
        "…and 7 more alerts today (4 release, 3 popularity) — daily cap 5; see /watch list"
    )
    assert summary.embeds == []
    assert summary.mentions.nobody

    channel.clock.advance(hours=1)
    await channel.release("1.99.0")
    later = await channel.deliver()
    assert (later.messages, later.dropped) == (0, 1)

    channel.clock.now = datetime(2026, 2, 21, 0, 0, tzinfo=UTC)  # a new UTC day
    await channel.release("2.0.0")
    assert (await channel.deliver()).sent == 1

    statuses = [(a.status, a.sent_at is not None) for a in await alerts_in(channel.database)]
    assert statuses.count((AlertStatus.SENT, True)) == 6
    assert statuses.count((AlertStatus.DROPPED, True)) == 7  # in the summary
    assert statuses.count((AlertStatus.DROPPED, False)) == 1  # after it
    assert len(channel.messages()) == 4


async def test_the_daily_cap_counts_bypassing_alerts_but_not_the_digest(channel: Channel) -> None:
    await channel.settings(
        digest_mode="daily", digest_hour=9, digest_bypass=["release:major"], daily_cap=1
    )
    for n in range(4):
        await channel.popularity(100 * (n + 1))
    channel.clock.now = SATURDAY_9
    await channel.deliver()
    channel.clock.advance(minutes=1)
    await channel.release("2.0.0", "major")
    await channel.release("3.0.0", "major")

    await channel.deliver()

    digest, bypassing, summary = channel.messages()
    assert digest.embeds[0]["title"] == "Daily digest: 4 alerts"
    assert len(bypassing.embeds) == 1
    assert summary.content.startswith("…and 1 more alert today (1 release)")


async def test_alerts_the_subscription_no_longer_asks_for_are_dropped_from_the_digest(
    channel: Channel,
) -> None:
    await channel.settings(digest_mode="daily", digest_hour=9)
    await channel.release("1.1.0", "minor")
    await channel.release("2.0.0", "major")
    await channel.follow(min_release_level="major")
    channel.clock.now = SATURDAY_9

    report = await channel.deliver()

    (digest,) = channel.messages()
    assert (report.sent, report.dropped) == (1, 1)
    assert "2.0.0" in fields(digest)["django-flatblocks"]


async def test_a_digest_cut_short_by_a_failure_resumes_with_what_did_not_go_out(
    channel: Channel,
) -> None:
    class FailsSecondPost:
        def __init__(self, sender: Sender) -> None:
            self.sender, self.calls = sender, 0

        async def send(self, destination: Destination, message: Message) -> int:
            self.calls += 1
            if self.calls == 2:
                raise DeliveryFailed("502 Bad Gateway")
            return await self.sender.send(destination, message)

    await channel.settings(digest_mode="daily", digest_hour=9)
    async with channel.together():
        for n in range(300):
            await channel.release(f"1.{n}", tail=" " + "z" * 400)
    channel.clock.now = SATURDAY_9
    sender = FailsSecondPost(WebhookSender(channel.http, test_host=WEBHOOK_TEST_HOST))
    worker = DeliveryWorker(channel.database, sender, site_url=SITE, clock=channel.clock)

    first = await worker.run_once()
    channel.clock.advance(minutes=1)
    second = await worker.run_once()

    assert (first.messages, first.sent + first.retrying) == (1, 300)
    assert first.sent + second.sent == 300
    shown = lines(channel.messages())
    assert len(shown) == len(set(shown)) == 300


async def test_a_capped_channel_another_worker_posts_to_is_left_to_it(channel: Channel) -> None:
    await channel.settings(daily_cap=2)
    for n in range(3):
        await channel.release(f"1.{n}.0")
    async with channel.database.transaction() as session:  # a worker elsewhere holds them
        now = channel.clock()
        await outbox.claim_due(session, worker="elsewhere:1:aa", now=now, lease_until=now + LEASE)
    for n in range(3):
        await channel.release(f"2.{n}.0")

    meanwhile = await channel.deliver()
    async with channel.database.transaction() as session:  # that worker is gone
        await outbox.release(session, ["elsewhere:1:aa"])
    after = await channel.deliver()

    assert (meanwhile.messages, meanwhile.sent, meanwhile.summarized) == (0, 0, 0)
    assert (after.sent, after.summarized) == (2, 4)
    summaries = [m for m in channel.messages() if m.content and "daily cap" in m.content]
    assert len(summaries) == 1
