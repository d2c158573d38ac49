"""Delivery: post the outbox's due alerts, grouped per destination, and settle every attempt.

One `run_once` claims a batch of due alerts and leases them (their next attempt moves
`LEASE` ahead, so another worker does not claim them while this one posts). Alerts for one
destination and role become as few messages as Discord's limits allow; each message's alerts
are marked sent in a short transaction right after Discord accepted it. A crash between the
post and that commit is the one way an alert can be posted twice (after the lease ends); an
alert is never lost. A lease outlived by slow posting could let a second worker post again, so
keep `batch_size` modest for the time a batch takes.

Outcomes per message: sent; `DeliveryFailed` retries with exponential backoff until
`max_attempts`, then fails; `DestinationGone` pauses the destination's subscriptions with the
reason and drops their pending alerts; `NoRoute` leaves the alerts pending for later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice

from bot.alert_messages import SiteLinks, build_messages
from bot.senders import DeliveryFailed, Destination, DestinationGone, Message, NoRoute, Sender
from storage import delivery_queries, outbox
from storage.database import Database
from storage.models import Alert, Subscription

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
#: How long alerts no sender here can reach wait before they are looked at again.
NO_ROUTE_WAIT = timedelta(minutes=5)
UNSUBSCRIBED = "Not delivered: its subscription was removed or paused."

Outgoing = list[tuple[Message, list[Alert]]]


def utcnow() -> datetime:
    return datetime.now(UTC)


def retry_delay(attempts: int) -> timedelta:
    """The wait after `attempts` failed attempts: 30 s, 1 min, 2 min, ... at most 1 h."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


@dataclass(slots=True)
class DeliveryReport:
    """What one `run_once` did, counted in alerts (`messages` in messages posted)."""

    messages: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0
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
        clock: Callable[[], datetime] = utcnow,
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

    async def _claim(self, report: DeliveryReport) -> dict[Destination, Outgoing]:
        """Lease a batch of due alerts (dropping those no subscription wants) and plan it."""
        now = self.clock()
        async with self.database.transaction() as session:
            claimed = await outbox.claim_due(session, now=now, limit=self.batch_size)
            wanted = {a.subscription_id for a in claimed if a.subscription_id is not None}
            active: dict[int | None, Subscription] = {
                **await delivery_queries.active_subscriptions(session, wanted)
            }
            routed = [(a, sub) for a in claimed if (sub := active.get(a.subscription_id))]
            unwanted = [a.id for a in claimed if a.subscription_id not in active]
            report.dropped += await delivery_queries.drop_pending(
                session, alert_ids=unwanted, reason=UNSUBSCRIBED
            )
            await delivery_queries.postpone(session, [a.id for a, _ in routed], until=now + LEASE)
            slugs = await delivery_queries.package_slugs(
                session, {a.package_id for a, _ in routed if a.package_id is not None}
            )
        return _plan(routed, SiteLinks(self.site_url, slugs))

    async def _deliver(
        self, destination: Destination, outgoing: Outgoing, report: DeliveryReport
    ) -> None:
        """Post one destination's messages in order, stopping at the first that fails."""
        for index, (message, alerts) in enumerate(outgoing):
            later = [alert for _, rest in outgoing[index + 1 :] for alert in rest]
            try:
                message_id = await self.sender.send(destination, message)
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
            async with self.database.transaction() as session:
                await outbox.mark_sent(
                    session, [a.id for a in alerts], message_id=message_id, now=self.clock()
                )
            report.messages += 1
            report.sent += len(alerts)

    async def _postpone(self, alerts: Sequence[Alert], wait: timedelta) -> None:
        async with self.database.transaction() as session:
            await delivery_queries.postpone(
                session, [a.id for a in alerts], until=self.clock() + wait
            )

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
            await delivery_queries.postpone(session, [a.id for a in later], until=retry_at)
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
            paused = await delivery_queries.pause_destination(
                session,
                channel_id=destination.channel_id,
                webhook_url=destination.webhook_url,
                reason=reason,
                now=self.clock(),
            )
            report.dropped += await delivery_queries.drop_pending(
                session, subscription_ids=paused, reason=reason
            )
        report.failed += len(failed)
        report.paused[destination.channel_id] = reason


def _plan(
    routed: Sequence[tuple[Alert, Subscription]], links: SiteLinks
) -> dict[Destination, Outgoing]:
    """Group alerts per destination, then per role to mention, into messages with their alerts.

    Alerts of different subscriptions in one channel share messages when their role is the same.
    """
    groups: dict[Destination, dict[int | None, list[Alert]]] = {}
    for alert, subscription in routed:
        destination = Destination(alert.guild_id, alert.channel_id, subscription.webhook_url)
        groups.setdefault(destination, {}).setdefault(subscription.role_id, []).append(alert)
    return {
        destination: [
            pair
            for role_id, role_alerts in by_role.items()
            for pair in _pair(build_messages(role_alerts, role_id, links), role_alerts)
        ]
        for destination, by_role in groups.items()
    }


def _pair(messages: Sequence[Message], alerts: Sequence[Alert]) -> Outgoing:
    """Each message with the alerts its embeds show: one embed per alert, in order."""
    remaining = iter(alerts)
    return [(message, list(islice(remaining, len(message["embeds"])))) for message in messages]
