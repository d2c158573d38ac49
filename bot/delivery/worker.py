"""Delivery: post the outbox's due alerts, grouped per destination, and settle every attempt.

One `run_once` claims a batch of due alerts and leases them (their next attempt moves
`LEASE` ahead, so another worker does not claim them while this one posts). Alerts for one
destination and role become as few messages as Discord's limits allow; each message's alerts
are marked sent in a short transaction right after Discord accepted it. A crash between the
post and that commit is the one way an alert can be posted twice (after the lease ends); an
alert is never lost. A lease outlived by slow posting could let a second worker post again, so
keep `batch_size` modest for the time a batch takes.

Digests and daily caps (`bot.delivery.plan`) are decided at claim time from the alerts table
and the channels' settings, nothing else: a digest channel's alerts are not claimed before
their digest time (unless they bypass it), and the batch of a digest or capped channel takes
all its due alerts, so one digest covers its whole period and one summary line counts the
whole overflow. Before anything is posted, alerts whose subscription was removed, paused or
no longer asks for them (its events or release filter changed meanwhile) are dropped.

Outcomes per message: sent (a cap summary's alerts: dropped, with the summary's time);
`DeliveryFailed` retries with exponential backoff until `max_attempts`, then fails;
`DestinationGone` pauses the destination's subscriptions with the reason and drops their
pending alerts; `NoRoute` leaves the alerts pending for later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.backoff import backoff
from bot.core.clock import Clock, utcnow
from bot.core.events import still_wants
from bot.delivery.digest import holds, last_digest_time
from bot.delivery.plan import ChannelState, Post, Routed, plan_delivery
from bot.delivery.senders import DeliveryFailed, Destination, DestinationGone, NoRoute, Sender
from bot.messages.alerts import SiteLinks
from storage import channels, delivery_queries, outbox, subscriptions
from storage.channels import ChannelPreferences
from storage.database import Database
from storage.models import Alert, DigestMode

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
#: How long alerts no sender here can reach wait before they are looked at again.
NO_ROUTE_WAIT = timedelta(minutes=5)
UNWANTED = "Not delivered: its subscription was removed, paused or no longer asks for it."
SUMMARIZED = "Not posted on its own: over the channel's daily cap, counted in the summary line."
OVER_CAP = "Not delivered: over the channel's daily cap after the day's summary line."


def retry_delay(attempts: int) -> timedelta:
    """The wait after `attempts` failed attempts: 30 s, 1 min, 2 min, ... at most 1 h."""
    return backoff(FIRST_RETRY, attempts, MAX_RETRY)


@dataclass(slots=True)
class DeliveryReport:
    """What one `run_once` did, counted in alerts (`messages` in messages posted)."""

    messages: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0
    #: Alerts over a daily cap counted in a summary line instead of posted.
    summarized: int = 0
    waiting: int = 0
    #: Channel id → why its subscriptions were paused.
    paused: dict[int, str] = field(default_factory=dict)


class DeliveryWorker:
    """Posts due outbox alerts through `sender`; call `run_once` in a loop."""

    def __init__(
        self,
        database: Database,
        sender: Sender,
        *,
        site_url: str,
        clock: Clock = utcnow,
        batch_size: int = 100,
        max_attempts: int = 8,
    ) -> None:
        self.database = database
        self.sender = sender
        self.site_url = site_url
        self.clock = clock
        self.batch_size = batch_size
        self.max_attempts = max_attempts

    async def run_once(self) -> DeliveryReport:
        """Claim the due alerts, post them destination by destination, settle each message."""
        report = DeliveryReport()
        for destination, outgoing in (await self._claim(report)).items():
            await self._deliver(destination, outgoing, report)
        return report

    async def _claim(self, report: DeliveryReport) -> dict[Destination, list[Post]]:
        """Lease a batch of due alerts (dropping those no subscription wants) and plan it."""
        now = self.clock()
        async with self.database.transaction() as session:
            claimed, preferences = await self._claim_channels(session, now)
            wanted = {a.subscription_id for a in claimed if a.subscription_id is not None}
            active = await delivery_queries.active_subscriptions(session, wanted)
            routed = [
                (a, sub)
                for a in claimed
                if a.subscription_id is not None
                and (sub := active.get(a.subscription_id))
                and still_wants(sub.preferences, a)
            ]
            kept = {a.id for a, _ in routed}
            report.dropped += await outbox.drop_pending(
                session, alert_ids=[a.id for a in claimed if a.id not in kept], reason=UNWANTED
            )
            await outbox.postpone(session, kept, until=now + LEASE)
            states = await _channel_states(
                session, {a.channel_id: preferences[a.channel_id] for a, _ in routed}, now
            )
            plan = plan_delivery(routed, states, await self._links(session, routed))
            report.dropped += await outbox.drop_pending(
                session, alert_ids=[a.id for a in plan.over_cap], reason=OVER_CAP
            )
        return plan.posts

    async def _claim_channels(
        self, session: AsyncSession, now: datetime
    ) -> tuple[list[Alert], dict[int, ChannelPreferences]]:
        """A batch of ready alerts, completed with every ready alert of its digest or capped
        channels, in claim order; and the settings of the batch's channels."""
        held = holds(await delivery_queries.digest_preferences(session), now)
        claimed = await outbox.claim_due(session, now=now, holds=held, limit=self.batch_size)
        preferences = await channels.preferences_for(session, {a.channel_id for a in claimed})
        whole = [
            channel_id
            for channel_id, prefs in preferences.items()
            if prefs.digest_mode is not DigestMode.IMMEDIATE or prefs.daily_cap
        ]
        if whole:
            rest = await outbox.claim_due(
                session, now=now, holds=held, limit=None, channel_ids=whole
            )
            claimed = sorted({a.id: a for a in [*claimed, *rest]}.values(), key=_claim_order)
        return claimed, preferences

    async def _links(self, session: AsyncSession, routed: Routed) -> SiteLinks:
        package_ids = {a.package_id for a, _ in routed if a.package_id is not None}
        slugs = await delivery_queries.package_slugs(session, package_ids)
        return SiteLinks(self.site_url, slugs)

    async def _deliver(
        self, destination: Destination, posts: Sequence[Post], report: DeliveryReport
    ) -> None:
        """Post one destination's messages in order, stopping at the first that fails."""
        for index, post in enumerate(posts):
            alerts = post.alerts
            later = [alert for rest in posts[index + 1 :] for alert in rest.alerts]
            try:
                message_id = await self.sender.send(destination, post.message)
            except NoRoute:
                await self._postpone([*alerts, *later], NO_ROUTE_WAIT)
                report.waiting += len(alerts) + len(later)
                return
            except DestinationGone as gone:
                await self._pause(destination, alerts, str(gone), report)
                return
            except Exception as exc:  # a sender's bug must not stop other channels' delivery
                if not isinstance(exc, DeliveryFailed):
                    log.exception("unexpected error posting to channel %s", destination.channel_id)
                await self._retry(alerts, later, str(exc) or repr(exc), report)
                return
            await self._settle(post, message_id, report)

    async def _settle(self, post: Post, message_id: int, report: DeliveryReport) -> None:
        """Record a posted message on its alerts: sent, or counted in a cap summary line."""
        ids = [a.id for a in post.alerts]
        async with self.database.transaction() as session:
            if post.summary:
                await outbox.mark_summarized(
                    session, ids, message_id=message_id, now=self.clock(), reason=SUMMARIZED
                )
            else:
                await outbox.mark_sent(session, ids, message_id=message_id, now=self.clock())
        report.messages += 1
        if post.summary:
            report.summarized += len(ids)
        else:
            report.sent += len(ids)

    async def _postpone(self, alerts: Sequence[Alert], wait: timedelta) -> None:
        async with self.database.transaction() as session:
            await outbox.postpone(session, [a.id for a in alerts], until=self.clock() + wait)

    async def _retry(
        self, failed: Sequence[Alert], later: Sequence[Alert], error: str, report: DeliveryReport
    ) -> None:
        """Back off the failed message's alerts (failing those out of attempts); the
        destination's later messages wait as long, without an attempt counted."""
        log.warning("delivery failed, will retry: %s", error)
        give_up = [a.id for a in failed if a.attempts + 1 >= self.max_attempts]
        again = [a for a in failed if a.attempts + 1 < self.max_attempts]
        retry_at = self.clock() + retry_delay(max((a.attempts + 1 for a in again), default=1))
        async with self.database.transaction() as session:
            await outbox.mark_failed(session, give_up, error=error)
            await outbox.mark_retry(
                session, [a.id for a in again], error=error, next_attempt_at=retry_at
            )
            await outbox.postpone(session, [a.id for a in later], until=retry_at)
        report.failed += len(give_up)
        report.retrying += len(again) + len(later)

    async def _pause(
        self, destination: Destination, failed: Sequence[Alert], reason: str, report: DeliveryReport
    ) -> None:
        """Stop posting to a destination that is gone: pause its subscriptions with the
        reason, fail this message's alerts and drop every other pending one of theirs."""
        log.warning("pausing channel %s: %s", destination.channel_id, reason)
        async with self.database.transaction() as session:
            await outbox.mark_failed(session, [a.id for a in failed], error=reason)
            paused = await subscriptions.pause_route(
                session,
                channel_id=destination.channel_id,
                webhook_url=destination.webhook_url,
                reason=reason,
                now=self.clock(),
            )
            report.dropped += await outbox.drop_pending(
                session, subscription_ids=paused, reason=reason
            )
        report.failed += len(failed)
        report.paused[destination.channel_id] = reason


def _claim_order(alert: Alert) -> tuple[int, int]:
    return alert.channel_id, alert.id


async def _channel_states(
    session: AsyncSession, preferences: Mapping[int, ChannelPreferences], now: datetime
) -> dict[int, ChannelState]:
    """Each channel's digest time and, when it has a daily cap, today's use of it. A digest
    channel's alerts posted on their own are those matching its bypass list."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    states = {}
    for channel_id, prefs in preferences.items():
        state = ChannelState(prefs, last_digest_time(prefs, now))
        if prefs.daily_cap:
            bypass = None if prefs.digest_mode is DigestMode.IMMEDIATE else prefs.digest_bypass
            state = replace(
                state,
                sent_today=await delivery_queries.sent_since(
                    session, channel_id, today, bypass=bypass
                ),
                summary_posted=await delivery_queries.summary_posted_since(
                    session, channel_id, today
                ),
            )
        states[channel_id] = state
    return states
