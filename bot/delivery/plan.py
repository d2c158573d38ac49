"""How claimed alerts become posts, channel by channel: digests, alerts, daily-cap summaries.

A digest channel's alerts created up to its latest digest time go out as that destination's
digest; the rest (immediate mode, or bypassing the digest) go out one embed each, grouped per
destination and role. A daily cap lets `daily_cap` of those through per UTC day; the first
overflow of the day becomes one summary line, and overflow after it is dropped. An urgent
alert (a HIGH or CRITICAL advisory affecting the latest release or the channel's pin) is posted
on its own at once, outside the digest and the cap. A withdrawn advisory whose alert was posted
first marks that message withdrawn (`Withdrawal`), outside the digest and the cap too, as it
posts nothing; its retraction message is posted only where that cannot be done.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from bot.core.events import kind_of
from bot.core.events.advisory import withdrawn_on
from bot.delivery.digest import digest_messages
from bot.delivery.senders import Destination, Message
from bot.messages.alerts import SiteLinks, alert_title, build_messages, cap_summary
from storage.channels import ChannelPreferences
from storage.models import Alert, DigestMode, Subscription

Routed = Sequence[tuple[Alert, Subscription]]


@dataclass(frozen=True, slots=True)
class Original:
    """A posted message holding alerts of an advisory now withdrawn, by their embed titles."""

    message_id: int
    titles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """The posted messages a retraction marks withdrawn (on `on`, a date) instead of posting."""

    on: str
    originals: tuple[Original, ...]


@dataclass(frozen=True, slots=True)
class Post:
    """A message and the alerts it settles; a `summary` line's alerts are never posted, and a
    `withdrawal`'s message only when its originals cannot be marked."""

    message: Message
    alerts: list[Alert]
    summary: bool = False
    withdrawal: Withdrawal | None = None

    @property
    def nonce(self) -> str:
        """Discord's idempotency key for this post (25 characters at most): the same alerts
        give the same nonce, so a post repeated after a crash gets back the message Discord
        already accepted instead of a second one."""
        ids = ",".join(str(alert_id) for alert_id in sorted(a.id for a in self.alerts))
        return hashlib.blake2b(ids.encode(), digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class ChannelState:
    """What planning needs to know of a channel besides its claimed alerts."""

    preferences: ChannelPreferences
    #: The latest digest time reached (its alerts are due); None in immediate mode.
    digest_time: datetime | None = None
    #: Alerts posted on their own today (UTC), which count against `daily_cap`.
    sent_today: int = 0
    summary_posted: bool = False


@dataclass(slots=True)
class Plan:
    posts: dict[Destination, list[Post]] = field(default_factory=dict)
    #: Alerts over the daily cap once the day's summary line is out: to drop.
    over_cap: list[Alert] = field(default_factory=list)

    def add(self, destination: Destination, posts: Sequence[Post]) -> None:
        self.posts.setdefault(destination, []).extend(posts)


def plan_delivery(
    routed: Routed,
    states: Mapping[int, ChannelState],
    links: SiteLinks,
    originals: Mapping[int, Sequence[Alert]] | None = None,
) -> Plan:
    """The posts of every channel among `routed`, in order per destination; `originals`: the
    posted alerts each retraction (by id) retracts."""
    by_channel: dict[int, list[tuple[Alert, Subscription]]] = {}
    for alert, subscription in routed:
        by_channel.setdefault(alert.channel_id, []).append((alert, subscription))
    plan = Plan()
    for channel_id, pairs in by_channel.items():
        _plan_channel(plan, pairs, states[channel_id], links, originals or {})
    return plan


def _plan_channel(
    plan: Plan,
    pairs: Routed,
    state: ChannelState,
    links: SiteLinks,
    originals: Mapping[int, Sequence[Alert]],
) -> None:
    withdrawing = [(a, s) for a, s in pairs if a.id in originals]
    for alert, subscription in withdrawing:
        plan.add(
            _destination(alert, subscription),
            [_withdrawal(alert, subscription, originals[alert.id], links)],
        )
    pairs = [(a, s) for a, s in pairs if a.id not in originals]
    urgent = [(a, s) for a, s in pairs if a.urgent]
    for destination, group in _by_destination(urgent).items():
        plan.add(destination, _alert_posts(group, links))
    pairs = [(a, s) for a, s in pairs if not a.urgent]
    due = state.digest_time
    digest = [(a, s) for a, s in pairs if due is not None and a.created_at <= due]
    single = [(a, s) for a, s in pairs if due is None or a.created_at > due]
    for destination, group in _by_destination(digest).items():
        plan.add(destination, _digest_posts(group, state.preferences.digest_mode, links))
    cap = state.preferences.daily_cap
    room = len(single) if cap is None else max(cap - state.sent_today, 0)
    for destination, group in _by_destination(single[:room]).items():
        plan.add(destination, _alert_posts(group, links))
    overflow = [alert for alert, _ in single[room:]]
    if not overflow or cap is None:
        return
    if state.summary_posted:
        plan.over_cap += overflow
        return
    summary = Post(cap_summary([kind_of(a).event for a in overflow], cap), overflow, summary=True)
    plan.add(_destination(*single[room]), [summary])


def _destination(alert: Alert, subscription: Subscription) -> Destination:
    return Destination(alert.guild_id, alert.channel_id, subscription.webhook_url)


def _by_destination(pairs: Routed) -> dict[Destination, list[tuple[Alert, Subscription]]]:
    groups: dict[Destination, list[tuple[Alert, Subscription]]] = {}
    for alert, subscription in pairs:
        groups.setdefault(_destination(alert, subscription), []).append((alert, subscription))
    return groups


def _digest_posts(pairs: Routed, mode: DigestMode, links: SiteLinks) -> list[Post]:
    """One destination's digest, pinging the roles of the subscriptions whose news it covers
    (a kind that does not ping, such as a stale report, never pings its route's role)."""
    roles = {s.role_id for a, s in pairs if s.role_id is not None and kind_of(a).pings}
    messages = digest_messages([a for a, _ in pairs], mode, roles, links)
    return [Post(message, alerts) for message, alerts in messages]


def _alert_posts(pairs: Routed, links: SiteLinks) -> list[Post]:
    """One destination's alerts, one embed each, sharing messages when their role is the same."""
    by_role: dict[int | None, list[Alert]] = {}
    for alert, subscription in pairs:
        by_role.setdefault(subscription.role_id, []).append(alert)
    return [
        post
        for role_id, alerts in by_role.items()
        for post in _pair(build_messages(alerts, role_id, links), alerts)
    ]


def _withdrawal(
    retraction: Alert, subscription: Subscription, posted: Sequence[Alert], links: SiteLinks
) -> Post:
    """The retraction as a post that first marks the messages of the `posted` alerts it
    retracts withdrawn, and is posted itself only if that cannot be done."""
    titles: dict[int, list[str]] = {}
    for original in posted:
        if original.message_id is not None:
            titles.setdefault(original.message_id, []).append(alert_title(original))
    withdrawal = Withdrawal(
        withdrawn_on(retraction.payload, retraction.created_at),
        tuple(Original(message_id, tuple(found)) for message_id, found in titles.items()),
    )
    [message] = build_messages([retraction], subscription.role_id, links)
    return Post(message, [retraction], withdrawal=withdrawal)


def _pair(messages: Sequence[Message], alerts: Sequence[Alert]) -> list[Post]:
    """Each message with the alerts its embeds show: one embed per alert, in order."""
    remaining = iter(alerts)
    return [Post(message, list(islice(remaining, len(message["embeds"])))) for message in messages]
