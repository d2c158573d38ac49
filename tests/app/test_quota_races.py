"""Additions at the same moment take turns at a quota (`storage.quota_lock`), on SQLite and on
PostgreSQL: of two channels of one server at its last free place, one is refused.

Each addition runs the product's own steps in its own transaction: the quota check, then the
insert. The first waits, between the two, until the second has checked too (or a moment has
passed, for the second is held at the guild's lock while the first's transaction lasts): without
the lock, both would read the count before either inserts, and both would pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import quotas
from bot.app.transfer import (
    SubscriptionEntry,
    TransferDocument,
    TransferError,
    import_document,
    signed,
)
from bot.config import Settings
from storage import channels, installation, subscriptions
from storage.database import Database
from storage.models import TargetKind

GUILD = 800_000_000_000_000_001
CHANNELS = (900_000_000_000_000_001, 900_000_000_000_000_002)
#: How long the first addition waits for the second to check, at most. The second is held at
#: the lock for the whole of it: waiting longer proves nothing more.
PATIENCE = 1.0
HOOK = "https://discord.com/api/webhooks/1/token"


async def add_subscription(session: AsyncSession, settings: Settings, channel: int) -> None:
    await quotas.check_new_subscriptions(
        session,
        settings,
        guild_id=GUILD,
        channel_id=channel,
        kind=TargetKind.PACKAGE,
        target_ids=[1],
    )


async def insert_subscription(session: AsyncSession, channel: int, webhook: str | None) -> None:
    await subscriptions.subscribe(
        session,
        guild_id=GUILD,
        channel_id=channel,
        target_kind=TargetKind.PACKAGE,
        target_id=1,
        created_by=1,
        webhook_url=webhook,
    )


async def add_webhook_route(session: AsyncSession, settings: Settings, channel: int) -> None:
    await quotas.check_new_webhook_route(
        session, settings, guild_id=GUILD, channel_id=channel, kind=TargetKind.PACKAGE, target_id=1
    )


async def add_mark(session: AsyncSession, settings: Settings, channel: int) -> None:
    await quotas.check_new_mark(session, settings, guild_id=GUILD, channel_id=channel, package_id=1)


async def insert_mark(session: AsyncSession, channel: int, _webhook: str | None) -> None:
    await channels.mark_feature_complete(
        session,
        guild_id=GUILD,
        channel_id=channel,
        package_id=1,
        marked_by=1,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )


Check = Callable[[AsyncSession, Settings, int], Awaitable[None]]
Insert = Callable[[AsyncSession, int, str | None], Awaitable[None]]
KINDS: dict[str, tuple[Check, Insert, str | None]] = {
    "subscriptions": (add_subscription, insert_subscription, None),
    "webhook routes": (add_webhook_route, insert_subscription, HOOK),
    "marks": (add_mark, insert_mark, None),
}


@pytest.fixture
def one_each(djp_settings: Settings) -> Settings:
    """A server may hold one of each."""
    return djp_settings.model_copy(
        update={
            "max_subscriptions_per_guild": 1,
            "max_webhook_routes_per_guild": 1,
            "max_marks_per_guild": 1,
        }
    )


@pytest.mark.parametrize("kind", list(KINDS))
async def test_two_additions_at_once_cannot_both_take_a_servers_last_place(
    database: Database, one_each: Settings, kind: str
) -> None:
    check, insert, webhook = KINDS[kind]
    first_checked, second_checked = asyncio.Event(), asyncio.Event()

    async def first() -> quotas.QuotaReached | None:
        async with database.transaction() as session:
            await check(session, one_each, CHANNELS[0])
            first_checked.set()
            with suppress(TimeoutError):
                await asyncio.wait_for(second_checked.wait(), PATIENCE)
            await insert(session, CHANNELS[0], webhook)
        return None

    async def second() -> quotas.QuotaReached | None:
        await first_checked.wait()
        try:
            async with database.transaction() as session:
                await check(session, one_each, CHANNELS[1])
                second_checked.set()
                await insert(session, CHANNELS[1], webhook)
        except quotas.QuotaReached as refusal:
            return refusal
        return None

    async with asyncio.TaskGroup() as group:  # a failure of one cancels the other
        outcomes = [group.create_task(first()).result, group.create_task(second()).result]
    results = [outcome() for outcome in outcomes]

    assert results[0] is None
    assert results[1] is not None, "both took the server's last place"
    assert str(results[1]).startswith("This server has reached its limit")
    async with database.session() as session:
        counts = (
            await channels.mark_counts(session, GUILD, CHANNELS[0])
            if kind == "marks"
            else await subscriptions.subscription_counts(session, GUILD, CHANNELS[0])
        )
    assert counts.guild == 1


async def test_an_import_cannot_take_the_place_a_webhook_add_took_after_its_first_check(
    database: Database, one_each: Settings
) -> None:
    """`import` checks the whole file before its first chunk; a `webhook add` between the two
    is seen by the chunk, which holds the guild and checks again."""
    added = asyncio.Event()
    async with database.session() as session:
        key = await installation.export_key(session)
    route = SubscriptionEntry(
        guild_id=GUILD,
        channel_id=CHANNELS[1],
        target_kind=TargetKind.PACKAGE,
        target_id=1,
        events=["release"],
        min_release_level="patch",
        include_prereleases=False,
        webhook_url=HOOK,
    )
    backup = signed(
        TransferDocument(exported_at=datetime(2026, 1, 1, tzinfo=UTC), subscriptions=[route]), key
    )

    async def webhook_add() -> None:
        async with database.transaction() as session:
            await add_webhook_route(session, one_each, CHANNELS[0])
            added.set()  # checked and held: the import checks its file now, and finds room
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(importing), PATIENCE)
            await insert_subscription(session, CHANNELS[0], HOOK)

    async def run_import() -> TransferError | None:
        await added.wait()
        try:
            await import_document(database, backup, now=backup.exported_at, settings=one_each)
        except TransferError as refusal:
            return refusal
        return None

    importing = asyncio.ensure_future(run_import())
    await asyncio.gather(webhook_add(), importing)
    refusal = importing.result()

    assert refusal is not None, "the import took the server's last webhook route too"
    assert str(refusal).startswith(
        f"Server {GUILD} has reached its limit of webhook routes across its channels (1)"
    )
    assert str(refusal).endswith(
        "Of the file's 1 subscription, 0 were imported before it; nothing else was."
    )
    async with database.session() as session:
        counts = await subscriptions.webhook_route_counts(session, GUILD, CHANNELS[0])
    assert counts.guild == 1
