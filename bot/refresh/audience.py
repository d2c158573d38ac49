"""The refresh's audience step, pure: changes and their followers in; outbox rows out.

Each follower (an active subscription) hears of a change it wants (`bot.core.events.wants`:
its events and release filter), once per channel: the row's dedup key is the channel and the
change's key, so two subscriptions of one channel reaching the same change raise one alert.

Health events (`activity`, `stale`) depend on the staleness rule of the follower's channel:
`package_alerts` works them out once per distinct rule among a package's followers, and each
result reaches only the channels applying that rule.

A yank of the latest release is news to every follower; a yank of an older release only to
the channels told of that release, whose outbox holds its release alert: `evidence_needed`
names those alerts, the shell says which are `told`, and `hears` decides.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from enum import Enum

from bot.core.alerting import Follower, NewAlert
from bot.core.events import HEALTH_EVENTS, Change, Event, detect_changes, wants
from bot.core.events.release import release_key
from bot.refresh.compare import Observation
from bot.refresh.staleness import ChannelStaleness, StaleRule


class Followed(Enum):
    """What followers follow to hear of a change: the package it is about, or its grid."""

    PACKAGE = "package"
    GRID = "grid"

    def target_of(self, change: Change) -> int | None:
        """The id a change is heard under (None: a change outside any grid has no grid
        audience)."""
        return change.grid_id if self is Followed.GRID else change.package_id


def alerts_for(
    changes: Iterable[Change],
    followers: Mapping[int, Sequence[Follower]],
    *,
    by: Followed,
    told: Collection[str] = frozenset(),
) -> list[NewAlert]:
    """One outbox row per (follower that wants and `hears` it, change), once per channel;
    `followers` are by the id each change is followed `by`, `told` as `hears` reads it."""
    rows: dict[str, NewAlert] = {}
    for change in changes:
        target = by.target_of(change)
        if target is None:
            continue
        for follower in followers.get(target, ()):
            if wants(follower.preferences, change) and hears(follower, change, told):
                key = dedup_key(follower, change.key)
                rows.setdefault(key, alert(follower, change, key))
    return list(rows.values())


def dedup_key(follower: Follower, change_key: str) -> str:
    """The outbox key of a change for a follower's channel: one alert per channel."""
    return f"{follower.channel_id}:{change_key}"


def _release_told(follower: Follower, change: Change) -> str | None:
    """The release alert whose presence in the follower's outbox decides whether it hears
    `change`: that of the release a yank is about, unless it was the latest (None)."""
    if change.event != Event.YANKED or change.data.get("of_latest"):
        return None
    return dedup_key(follower, release_key(change.package_id, str(change.data["version"])))


def hears(follower: Follower, change: Change, told: Collection[str]) -> bool:
    """Whether the follower's channel is in `change`'s audience: always, but for a yank of a
    release other than the latest, heard only where that release was announced (`told`: the
    release alerts, by dedup key, that reached their channel or are on their way)."""
    evidence = _release_told(follower, change)
    return evidence is None or evidence in told


def evidence_needed(
    changes: Iterable[Change], followers: Mapping[int, Sequence[Follower]], *, by: Followed
) -> dict[int, set[str]]:
    """The release alerts (dedup keys, by channel) `hears` asks about for these changes'
    followers: the shell reads which of them were told."""
    needed: dict[int, set[str]] = {}
    for change in changes:
        target = by.target_of(change)
        for follower in followers.get(target, ()) if target is not None else ():
            if (evidence := _release_told(follower, change)) is not None:
                needed.setdefault(follower.channel_id, set()).add(evidence)
    return needed


def alert(follower: Follower, change: Change, dedup_key: str, *, urgent: bool = False) -> NewAlert:
    """The outbox row of `change` for `follower`; a package id of 0 (an advisory of a
    requirement not on Django Packages) is no package."""
    return NewAlert(
        subscription_id=follower.id,
        guild_id=follower.guild_id,
        channel_id=follower.channel_id,
        event=change.event.value,
        dedup_key=dedup_key,
        summary=change.summary,
        payload=change.data,
        package_id=change.package_id or None,
        grid_id=change.grid_id,
        release_level=change.release_level,
        urgent=urgent,
    )


def may_alert(observations: Iterable[Observation], ruled: frozenset[int]) -> list[Observation]:
    """The observations that can raise alerts, whose followers are worth reading: those with
    changes, and those of packages some channel judges by its own staleness rule (`ruled`),
    which can change for that channel while unchanged under the global rule."""
    return [seen for seen in observations if seen.changes or seen.current.id in ruled]


def package_alerts(
    observations: Iterable[Observation],
    followers: Mapping[int, Sequence[Follower]],
    staleness: Mapping[int, ChannelStaleness],
) -> list[NewAlert]:
    """The alerts the observed packages' changes raise among their followers (by package id;
    an observation without an entry has none). `staleness` is each follower's channel's."""
    alerts: list[NewAlert] = []
    for seen in observations:
        alerts += _observation_alerts(seen, followers.get(seen.current.id, ()), staleness)
    return alerts


def _observation_alerts(
    seen: Observation, followers: Sequence[Follower], staleness: Mapping[int, ChannelStaleness]
) -> list[NewAlert]:
    """Events that do not depend on health reach every follower. Health events are worked
    out once per distinct rule (threshold, feature-complete mark) among the followers'
    channels: a channel hears of a transition as one or the other, never both."""
    package_id, context = seen.current.id, seen.context
    audience = {package_id: followers}
    others = [change for change in seen.changes if change.event not in HEALTH_EVENTS]
    alerts = alerts_for(others, audience, by=Followed.PACKAGE)
    by_rule: dict[StaleRule, list[Follower]] = {}
    for follower in followers:
        by_rule.setdefault(staleness[follower.channel_id].rule(package_id), []).append(follower)
    global_rule = StaleRule(context.stale_after_days, context.feature_complete)
    for rule, group in by_rule.items():
        if rule == global_rule:  # most channels: the global detection already answered
            health = [change for change in seen.changes if change.event in HEALTH_EVENTS]
        else:
            ruled = replace(
                context,
                stale_after_days=rule.stale_after_days,
                feature_complete=rule.feature_complete,
            )
            health = detect_changes(seen.previous, seen.current, ruled, events=HEALTH_EVENTS)
        alerts += alerts_for(health, {package_id: group}, by=Followed.PACKAGE)
    return alerts
