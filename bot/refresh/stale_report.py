"""The weekly stale report: one outbox alert per opted-in channel listing what it follows that
is stale, under that channel's threshold and feature-complete marks.

A channel's report is due from its `digest_weekday` at `digest_hour` (UTC) for `REPORT_WINDOW`,
so a job that runs at least that often never misses one. The dedup key names the ISO week of
that moment: however often the job runs, a channel gets one report a week, and none in a week
where nothing it follows is stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.alerting import NewAlert
from bot.core.events import stale_report
from bot.core.events.stale_report import weekly_report
from bot.core.health import Health
from bot.core.records import PackageRecord
from bot.refresh.stale_reads import channel_staleness, stale_among
from bot.refresh.staleness import ChannelStaleness
from storage import channels, outbox, subscriptions
from storage.channels import ChannelPreferences
from storage.database import Database
from storage.models import Subscription

#: How long after its weekly moment a report may still go out (e.g. after a restart).
REPORT_WINDOW = timedelta(days=1)


def last_slot(now: datetime, weekday: int, hour: int) -> datetime:
    """The latest moment at or before `now` that falls on `weekday` (Monday = 0) at `hour`."""
    day = now - timedelta(days=(now.weekday() - weekday) % 7)
    slot = day.replace(hour=hour, minute=0, second=0, microsecond=0)
    return slot if slot <= now else slot - timedelta(weeks=1)


def report_week(slot: datetime) -> str:
    """The ISO week of a report's moment, e.g. "2026-W09"."""
    year, week, _ = slot.isocalendar()
    return f"{year}-W{week:02d}"


def due_week(preferences: ChannelPreferences, now: datetime) -> str | None:
    """The ISO week of the channel's report due at `now`, or None when none is due."""
    slot = last_slot(now, preferences.digest_weekday, preferences.digest_hour)
    return report_week(slot) if now - slot < REPORT_WINDOW else None


def report_alert(
    route: Subscription,
    week: str,
    staleness: ChannelStaleness,
    rows: Sequence[tuple[PackageRecord, Health]],
    checked: int,
) -> NewAlert:
    """One channel's report as an outbox row, delivered through `route` (its oldest active
    subscription, which decides the destination: bot or webhook)."""
    report = weekly_report(week, staleness.stale_after_days, rows, checked)
    return NewAlert(
        subscription_id=route.id,
        guild_id=route.guild_id,
        channel_id=route.channel_id,
        event=stale_report.KIND.name,
        dedup_key=f"{route.channel_id}:{report.key}",
        summary=report.summary,
        payload=report.data,
    )


async def enqueue_stale_reports(
    database: Database, *, now: datetime, default_stale_after_days: int
) -> int:
    """Write the weekly stale report of every channel due one at `now`; return how many were
    new (a report already written this week is not written again)."""
    async with database.transaction() as session:
        weeks = {
            preferences.channel_id: week
            for preferences in await channels.stale_report_channels(session)
            if (week := due_week(preferences, now)) is not None
        }
        if not weeks:
            return 0
        routes = await subscriptions.active_by_channel(session, weeks)
        followed = await subscriptions.followed_package_ids(session, weeks)
        staleness = await channel_staleness(session, weeks, default_days=default_stale_after_days)
        alerts = []
        for channel_id, week in weeks.items():
            following = followed[channel_id]
            rows = await stale_among(session, following, staleness[channel_id], now)
            if rows and routes[channel_id]:
                route = routes[channel_id][0]
                alerts.append(
                    report_alert(route, week, staleness[channel_id], rows, len(following))
                )
        return await outbox.enqueue(session, alerts, now=now)
