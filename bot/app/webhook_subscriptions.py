"""Subscriptions made from a Discord webhook URL, for running without a bot (`webhook` CLI).

Discord tells us, from the URL alone, which guild and channel a webhook posts to; the
subscription is then stored like a bot's, with the URL as its route.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.quotas import Quota, check_new_webhook_route, room_for
from bot.app.runtime import Runtime
from bot.core.events import AlertPreferences
from bot.core.requirements import pin_text
from bot.core.slugs import checked_key
from bot.delivery.webhook import resolve_webhook, stored_webhook, webhook_id
from storage import grids, packages, pins, subscriptions
from storage.models import Subscription, TargetKind


@dataclass(frozen=True, slots=True)
class WebhookWatch:
    """One webhook subscription, described for people (never showing the URL's token)."""

    webhook_id: int
    channel_id: int
    kind: TargetKind
    slug: str
    events: tuple[str, ...]
    min_release_level: str
    include_prereleases: bool
    thread_id: int | None
    paused_reason: str | None
    #: The version the channel imported for the package (`/watch import`), if it did.
    pin: str | None = None


async def watch(
    runtime: Runtime,
    http: httpx.AsyncClient,
    url: str,
    key: str,
    *,
    kind: TargetKind,
    preferences: AlertPreferences,
) -> tuple[str, subscriptions.Outcome]:
    """Subscribe the webhook's channel to a package or grid; returns (title, what was done).

    Discord names the webhook's server and channel; their quota is checked then, before the
    target is fetched, so a refused add asks Django Packages nothing. The target is fetched
    now, so the baseline is taken when the subscription is made. Raises `QuotaReached`
    (nothing added) when the channel or server holds as many webhook routes as it may.
    """
    checked_key(key, kind.value)  # a bad slug is refused before asking Discord anything
    destination = await resolve_webhook(http, url, test_host=runtime.settings.webhook_test_host)
    async with runtime.database.session() as session:  # a server at its quota costs no fetch
        await room_for(
            session,
            runtime.settings,
            Quota.WEBHOOK_ROUTES,
            guild_id=destination.guild_id,
            channel_id=destination.channel_id,
            key=key,
            kind=kind,
        )
    if kind is TargetKind.PACKAGE:
        record = await runtime.monitor.refresh_package(key)
        target_id, title = record.id, record.title
    else:
        grid = await runtime.monitor.refresh_grid(key)
        target_id, title = grid.id, grid.title
    async with runtime.database.transaction() as session:
        await check_new_webhook_route(
            session,
            runtime.settings,
            guild_id=destination.guild_id,
            channel_id=destination.channel_id,
            kind=kind,
            target_id=target_id,
        )
        _subscription, outcome = await subscriptions.subscribe(
            session,
            guild_id=destination.guild_id,
            channel_id=destination.channel_id,
            target_kind=kind,
            target_id=target_id,
            created_by=None,
            events=preferences.events,
            min_release_level=preferences.min_release_level,
            include_prereleases=preferences.include_prereleases,
            webhook_url=url.strip(),
        )
    return title, outcome


async def unwatch(runtime: Runtime, webhook: str, key: str, *, kind: TargetKind) -> bool:
    """Remove the webhook's subscription to a package or grid; False if there was none.

    `webhook` is the webhook's id (as `webhook list` shows it) or its URL.
    """
    test_host = runtime.settings.webhook_test_host
    hook = int(webhook) if webhook.strip().isdigit() else webhook_id(webhook, test_host=test_host)
    async with runtime.database.transaction() as session:
        target_id = await _target_id(session, key, kind)
        for subscription in await subscriptions.all_subscriptions(session):
            if _routes_through(subscription, hook) and (
                subscription.target_kind,
                subscription.target_id,
            ) == (kind, target_id):
                return await subscriptions.unsubscribe(
                    session,
                    channel_id=subscription.channel_id,
                    target_kind=kind,
                    target_id=subscription.target_id,
                )
    return False


async def webhook_watches(runtime: Runtime) -> list[WebhookWatch]:
    """Every subscription delivered through a webhook."""
    async with runtime.database.session() as session:
        routed = [s for s in await subscriptions.all_subscriptions(session) if s.webhook_url]
        package_slugs = {
            pid: stored.record.slug
            for pid, stored in (
                await packages.load_packages(
                    session, [s.target_id for s in routed if s.target_kind == TargetKind.PACKAGE]
                )
            ).items()
        }
        grid_slugs = await grids.grid_slugs(
            session, [s.target_id for s in routed if s.target_kind == TargetKind.GRID]
        )
        pinned = {
            (channel_id, pin.package_id): pin_text(pin, markdown=False)
            for channel_id in {s.channel_id for s in routed}
            for pin in (await pins.channel_pins(session, channel_id)).values()
        }
    return [
        WebhookWatch(
            webhook_id=stored_webhook(s.webhook_url or "")[0],
            channel_id=s.channel_id,
            kind=TargetKind(s.target_kind),
            slug=(package_slugs if s.target_kind == TargetKind.PACKAGE else grid_slugs).get(
                s.target_id, f"#{s.target_id}"
            ),
            events=tuple(s.events),
            min_release_level=s.min_release_level,
            include_prereleases=s.include_prereleases,
            thread_id=stored_webhook(s.webhook_url or "")[1],
            paused_reason=s.paused_reason,
            pin=pinned.get((s.channel_id, s.target_id))
            if s.target_kind == TargetKind.PACKAGE
            else None,
        )
        for s in routed
    ]


async def _target_id(session: AsyncSession, key: str, kind: TargetKind) -> int | None:
    if kind is TargetKind.PACKAGE:
        stored = await packages.find_package(session, key)
        return stored.record.id if stored else None
    grid = await grids.find_grid(session, key)
    return grid.id if grid else None


def _routes_through(subscription: Subscription, hook: int) -> bool:
    return (
        bool(subscription.webhook_url) and stored_webhook(subscription.webhook_url or "")[0] == hook
    )
