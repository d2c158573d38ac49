"""Delivery: post the outbox's due alerts, grouped per destination, and settle every attempt.

One `run_once` delivers until nothing is due: it claims a batch, posts it, and claims again at
once. A claim is a lease in this worker's name (`bot.delivery.identity`), renewed every
`RENEW_EVERY` while the pass runs and given back when it ends, so another worker never holds
the same alert; claims of a worker that died on this host are taken back at the next claim,
those of a worker elsewhere when their short lease runs out. Destinations are posted to
concurrently (each one's messages in order), every post waits for the process's share of
Discord's global budget (`bot.delivery.pacing`), and posted messages are recorded in batches
(`bot.delivery.settler`).

Each message carries a nonce derived from its alerts (`Post.nonce`): posted again after a
crash between Discord accepting it and its record, Discord answers with the message it already
has instead of posting twice. Webhooks have no nonce; their messages are recorded at once.

Digests and daily caps (`bot.delivery.plan`) are decided at claim time from the alerts table
and the channels' settings, nothing else: a digest channel's alerts are not claimed before
their digest time (unless they bypass it), and the batch of a digest or capped channel takes
all its due alerts, so one digest covers its whole period and one summary line counts the
whole overflow. Before anything is posted, alerts whose subscription was removed, paused or
no longer asks for them (its events or release filter changed meanwhile) are dropped.

Outcomes per message: sent (a cap summary's alerts: dropped, with the summary's time);
`DeliveryFailed` retries with exponential backoff until `max_attempts`, then fails;
`MessageRejected` (Discord's 400) fails the message at once, logged once, and the destination
goes on with its next message; a rejected message of several alerts is first tried again as
one message per alert, without link buttons, so only the alert Discord refuses fails;
`DestinationGone` pauses the destination's subscriptions with the reason and drops their
pending alerts; `NoRoute` leaves the alerts pending for later.

A withdrawn advisory's retraction first marks the messages that carried the advisory's alerts
withdrawn in place (`bot.messages.withdrawn`), through a sender that can change what it posted
(`Editor`): the retraction is then settled with that message, and posted as a message of its
own only when a message cannot be changed (`MessageGone`: deleted, out of reach, a digest's).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.backoff import backoff
from bot.core.clock import Clock, utcnow
from bot.core.events import Event, still_wants
from bot.core.events.advisory import is_retraction
from bot.core.plural import counted
from bot.delivery import identity
from bot.delivery.digest import holds, last_digest_time
from bot.delivery.identity import WorkerId
from bot.delivery.pacing import Pacer
from bot.delivery.plan import ChannelState, Post, Routed, Withdrawal, plan_delivery
from bot.delivery.senders import (
    DeliveryFailed,
    Destination,
    DestinationGone,
    Editor,
    MessageGone,
    MessageRejected,
    NoRoute,
    Sender,
)
from bot.delivery.settler import Settler
from bot.messages.alerts import PackageUrls, SiteLinks
from bot.messages.withdrawn import mark_withdrawn
from storage import channels, delivery_queries, outbox, subscriptions
from storage.channels import ChannelPreferences
from storage.database import Database
from storage.models import Alert, DigestMode

log = logging.getLogger(__name__)

#: How long a claim holds without renewal: the wait for the claims of a worker that died on
#: another host.
LEASE = timedelta(seconds=30)
#: Seconds between two renewals of a running pass's claims.
RENEW_EVERY = 10.0
#: Destinations posted to at the same time; the pacer keeps their sum within the budget.
CONCURRENCY = 8
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
#: How long alerts no sender here can reach wait before they are looked at again.
NO_ROUTE_WAIT = timedelta(minutes=5)
UNWANTED = "Not delivered: its subscription was removed, paused or no longer asks for it."
OVER_CAP = "Not delivered: over the channel's daily cap after the day's summary line."


def retry_delay(attempts: int) -> timedelta:
    """The wait after `attempts` failed attempts: 30 s, 1 min, 2 min, ... at most 1 h."""
    return backoff(FIRST_RETRY, attempts, MAX_RETRY)


@dataclass(slots=True)
class DeliveryReport:
    """What one `run_once` did, counted in alerts (`messages` in messages posted)."""

    messages: int = 0
    #: Posted messages changed instead (marked withdrawn), each settling its retraction.
    edited: int = 0
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
        batch_size: int = 200,
        max_attempts: int = 8,
        pacer: Pacer | None = None,
        webhooks_only: bool = False,
        concurrency: int = CONCURRENCY,
        worker: WorkerId | None = None,
    ) -> None:
        """`webhooks_only`: this process has no bot, so it claims webhook alerts only."""
        self.database = database
        self.sender = sender
        self.site_url = site_url
        self.clock = clock
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.pacer = pacer
        self.webhooks_only = webhooks_only
        self.concurrency = concurrency
        self.worker = worker or identity.current()
        self._lease_lost = False

    @property
    def name(self) -> str:
        """This worker's name on its claims."""
        return str(self.worker)

    async def run_once(self) -> DeliveryReport:
        """Deliver until nothing is due: claim a batch, post it, settle it, claim again."""
        report = DeliveryReport()
        self._lease_lost = False
        renewing = asyncio.create_task(self._keep_leases())
        claimed_any = False
        try:
            while True:
                claimed, posts = await self._claim(report)
                if not claimed:
                    return report
                claimed_any = True
                await self._post(posts, report)
        finally:
            renewing.cancel()
            if claimed_any:
                await asyncio.shield(self._give_back())

    async def _keep_leases(self) -> None:
        """Renew this worker's leases while the pass runs; stop posting if that fails."""
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                now = self.clock()
                async with self.database.transaction() as session:
                    await outbox.renew(session, worker=self.name, now=now, lease_until=now + LEASE)
            except Exception:
                log.exception("could not renew delivery leases: stopping this pass")
                self._lease_lost = True
                return

    async def _give_back(self) -> None:
        """Release whatever this worker still holds, for the next pass or another worker."""
        async with self.database.transaction() as session:
            await outbox.release(session, [self.name])

    async def _claim(self, report: DeliveryReport) -> tuple[int, dict[Destination, list[Post]]]:
        """Lease a batch of due alerts (dropping those no subscription wants) and plan it;
        how many alerts were claimed, and the posts."""
        now = self.clock()
        async with self.database.transaction() as session:
            await self._take_back_orphans(session, now)
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
            states = await _channel_states(
                session, {a.channel_id: preferences[a.channel_id] for a, _ in routed}, now
            )
            retractions = [a for a, _ in routed if is_retraction(a.event, a.payload)]
            originals = await delivery_queries.posted_originals(session, retractions)
            plan = plan_delivery(routed, states, await self._links(session, routed), originals)
            report.dropped += await outbox.drop_pending(
                session, alert_ids=[a.id for a in plan.over_cap], reason=OVER_CAP
            )
        return len(claimed), plan.posts

    async def _take_back_orphans(self, session: AsyncSession, now: datetime) -> None:
        """Release the claims of workers that died on this host (see `bot.delivery.identity`)."""
        orphans = [
            name
            for name in await outbox.claimants(session, now=now)
            if (claimant := WorkerId.parse(name)) and self.worker.is_orphan(claimant)
        ]
        if await outbox.release(session, orphans):
            stopped = counted(len(orphans), "stopped worker")
            log.info("took back the delivery claims of %s: %s", stopped, ", ".join(orphans))

    async def _claim_channels(
        self, session: AsyncSession, now: datetime
    ) -> tuple[list[Alert], dict[int, ChannelPreferences]]:
        """A batch of ready alerts, completed with every ready alert of its digest or capped
        channels, in claim order; and the settings of the batch's channels. A digest or capped
        channel another worker is posting to is left to that worker, so one digest and one cap
        summary line are posted however many workers run."""
        held = holds(await delivery_queries.digest_preferences(session), now)
        claim = partial(
            outbox.claim_due,
            session,
            worker=self.name,
            now=now,
            lease_until=now + LEASE,
            holds=held,
            webhooks_only=self.webhooks_only,
        )
        claimed = await claim(limit=self.batch_size)
        preferences = await channels.preferences_for(session, {a.channel_id for a in claimed})
        whole = [
            channel_id
            for channel_id, prefs in preferences.items()
            if prefs.digest_mode is not DigestMode.IMMEDIATE or prefs.daily_cap
        ]
        busy = await outbox.channels_held_elsewhere(session, whole, worker=self.name, now=now)
        if busy:  # another worker posts there: its digest or cap summary must see them all
            await outbox.postpone(
                session, [a.id for a in claimed if a.channel_id in busy], until=now
            )
            claimed = [a for a in claimed if a.channel_id not in busy]
            whole = [channel_id for channel_id in whole if channel_id not in busy]
        if whole:
            rest = await claim(limit=None, channel_ids=whole)
            claimed = sorted({a.id: a for a in [*claimed, *rest]}.values(), key=_claim_order)
        return claimed, preferences

    async def _links(self, session: AsyncSession, routed: Routed) -> SiteLinks:
        package_ids = {a.package_id for a, _ in routed if a.package_id is not None}
        slugs = await delivery_queries.package_slugs(session, package_ids)
        released = {a.package_id for a, _ in routed if a.event == Event.RELEASE and a.package_id}
        urls = await delivery_queries.package_urls(session, released) if released else {}
        return SiteLinks(
            self.site_url, slugs, {pid: PackageUrls(*found) for pid, found in urls.items()}
        )

    async def _post(self, posts: Mapping[Destination, list[Post]], report: DeliveryReport) -> None:
        """Post a claimed batch, `concurrency` destinations at a time, and record it."""
        settler = Settler(self.database, self.clock, report)
        slots = asyncio.Semaphore(self.concurrency)

        async def deliver(destination: Destination, outgoing: list[Post]) -> None:
            async with slots:
                await self._deliver(destination, outgoing, report, settler)

        try:
            await asyncio.gather(*(deliver(d, outgoing) for d, outgoing in posts.items()))
        finally:
            await asyncio.shield(settler.flush())

    async def _deliver(
        self,
        destination: Destination,
        posts: Sequence[Post],
        report: DeliveryReport,
        settler: Settler,
    ) -> None:
        """Post one destination's messages in order, stopping at the first that fails (one
        Discord refuses is failed, and the next goes on)."""
        for index, post in enumerate(posts):
            if self._lease_lost:
                return  # its alerts stay claimed until the lease ends, then go to another worker
            alerts = post.alerts
            later = [alert for rest in posts[index + 1 :] for alert in rest.alerts]
            try:
                edited = await self._withdraw(destination, post.withdrawal)
                message_id = edited or await self._send(destination, post)
            except MessageRejected as rejected:
                await self._rejected(destination, post, rejected, report, settler)
                continue
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
            await settler.posted(
                post,
                message_id,
                at_once=destination.webhook_url is not None,
                edited=edited is not None,
            )

    async def _send(self, destination: Destination, post: Post) -> int:
        async with self._paced():
            return await self.sender.send(destination, {**post.message, "nonce": post.nonce})

    def _paced(self) -> AbstractAsyncContextManager[object]:
        """One request within the process's share of Discord's budget."""
        return self.pacer.request() if self.pacer else nullcontext()

    async def _withdraw(
        self, destination: Destination, withdrawal: Withdrawal | None
    ) -> int | None:
        """Mark the messages of a withdrawn advisory's alerts withdrawn in place; the first
        one's id when every one was, None when one cannot be (its retraction is then posted).
        A failure that may pass (`DeliveryFailed`, `NoRoute`) is raised: the retraction waits
        and tries again, and a message already marked stays as it is."""
        if withdrawal is None or not isinstance(self.sender, Editor):
            return None
        try:
            for original in withdrawal.originals:
                async with self._paced():
                    posted = await self.sender.fetch(destination, original.message_id)
                embeds: list[dict[str, object]] | None = posted.get("embeds") or []
                for title in original.titles:
                    embeds = mark_withdrawn(embeds, title, withdrawal.on) if embeds else None
                if embeds is None:
                    raise MessageGone(f"message {original.message_id} does not show the alert")
                async with self._paced():
                    await self.sender.edit(destination, original.message_id, {"embeds": embeds})
        except MessageGone as gone:
            log.info("posting a retraction, as a message cannot be marked withdrawn: %s", gone)
            return None
        return withdrawal.originals[0].message_id

    async def _rejected(
        self,
        destination: Destination,
        post: Post,
        rejected: MessageRejected,
        report: DeliveryReport,
        settler: Settler,
    ) -> None:
        """A message Discord refused: its alerts one by one if it packed several (each alone,
        without the link buttons), failing for good only what Discord still refuses. The
        message's role ping goes with the first one posted only: a role is pinged once."""
        embeds = post.message.get("embeds") or []
        if len(post.alerts) > 1 and len(embeds) == len(post.alerts) and not post.summary:
            log.warning(
                "Discord refused a message of %d alerts: sending them one by one: %s",
                len(post.alerts),
                rejected,
            )
            message = {k: v for k, v in post.message.items() if k != "components"}
            quiet = {k: v for k, v in message.items() if k not in ("content", "allowed_mentions")}
            for embed, alert in zip(embeds, post.alerts, strict=True):
                single = Post({**message, "embeds": [embed]}, [alert])
                try:
                    message_id = await self._send(destination, single)
                except MessageRejected as again:
                    await self._fail([alert], str(again), report)
                except (NoRoute, DestinationGone, DeliveryFailed) as exc:
                    await self._retry([alert], [], str(exc), report)
                else:
                    await settler.posted(single, message_id, at_once=True)
                    message = quiet
            return
        await self._fail(post.alerts, str(rejected), report)

    async def _fail(self, alerts: Sequence[Alert], error: str, report: DeliveryReport) -> None:
        """Fail alerts Discord refused, for good: sent again, they would be refused again."""
        log.warning("Discord refused a message; its alert(s) will not be retried: %s", error)
        async with self.database.transaction() as session:
            await outbox.mark_failed(session, [a.id for a in alerts], error=error)
        report.failed += len(alerts)

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
