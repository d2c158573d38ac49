"""The refresh's audience step without a database: who hears of which change, as which
outbox row.

The changes come from the real detection (`bot.core.events`) on the seed package; the
followers are plain values, as the monitor reads them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.alerting import Follower, NewAlert
from bot.core.events import (
    AlertPreferences,
    Change,
    DetectContext,
    Event,
    detect_changes,
    grid_membership_changes,
    removed_change,
)
from bot.core.events.yanked import yanked_change
from bot.core.records import PackageRecord, parse_grid, parse_package
from bot.refresh.audience import Followed, alerts_for, evidence_needed, may_alert, package_alerts
from bot.refresh.compare import Observation
from bot.refresh.staleness import ChannelStaleness
from tests.plugins.data import load_json, seed_package

NOW = datetime(2026, 2, 20, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=2)
DAYS = 365
FLATBLOCKS = 265
GUILD = 800_000_000_000_000_001
CHANNEL, OTHER_CHANNEL = 900_000_000_000_000_001, 900_000_000_000_000_002


def record(**changes: Any) -> PackageRecord:
    return parse_package(seed_package("django-flatblocks") | changes)


def follower(subscription_id: int = 1, channel_id: int = CHANNEL, **preferences: Any) -> Follower:
    return Follower(subscription_id, GUILD, channel_id, AlertPreferences(**preferences))


def observed(before: PackageRecord, after: PackageRecord, now: datetime = NOW) -> Observation:
    """Two observations of a package, with what the global rule finds between them."""
    context = DetectContext(now=now, previous_at=NOW, stale_after_days=DAYS)
    return Observation(before, after, context, detect_changes(before, after, context))


def change(event: Event, **changes: Any) -> Change:
    """The one change of `event` the seed package makes when `changes` are applied."""
    (found,) = observed(record(), record(**changes)).changes
    assert found.event is event
    return found


PATCH = change(Event.RELEASE, pypi_version="1.0.1")
MAJOR = change(Event.RELEASE, pypi_version="2.0.0")
PRERELEASE = change(Event.RELEASE, pypi_version="1.1.0b1")
STARS = change(Event.POPULARITY, repo_watchers=120)
MOVED_REPO = change(Event.REPO, repo_url="https://github.com/x/y")
REMOVED = removed_change(record())
GRID = parse_grid(load_json("grid-detail.reconstructed.json"))
(JOINED,) = grid_membership_changes(GRID, frozenset(), frozenset({FLATBLOCKS}), {})


def heard(alerts: list[NewAlert]) -> list[tuple[int, str]]:
    return [(alert.channel_id, alert.event) for alert in alerts]


# -- who hears a change -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "news", "preferences", "hears"),
    [
        ("a release, by default", PATCH, {}, True),
        ("stars, by default", STARS, {}, True),
        ("a removal, by default", REMOVED, {}, True),
        ("repository moves are not a default event", MOVED_REPO, {}, False),
        ("repository moves, asked for", MOVED_REPO, {"events": frozenset({Event.REPO})}, True),
        ("an event not asked for", STARS, {"events": frozenset({Event.RELEASE})}, False),
        ("a patch below a major minimum", PATCH, {"min_release_level": "major"}, False),
        ("a major at a major minimum", MAJOR, {"min_release_level": "major"}, True),
        ("a pre-release, by default", PRERELEASE, {}, True),
        ("a pre-release, left out", PRERELEASE, {"include_prereleases": False}, False),
    ],
)
def test_a_follower_hears_what_it_wants(
    case: str, news: Change, preferences: dict[str, Any], hears: bool
) -> None:
    alerts = alerts_for([news], {FLATBLOCKS: [follower(**preferences)]}, by=Followed.PACKAGE)
    assert heard(alerts) == ([(CHANNEL, news.event.value)] if hears else []), case


def test_an_alert_row_carries_the_change_and_its_route() -> None:
    (alert,) = alerts_for([MAJOR], {FLATBLOCKS: [follower(7)]}, by=Followed.PACKAGE)
    assert alert == NewAlert(
        subscription_id=7,
        guild_id=GUILD,
        channel_id=CHANNEL,
        event="release",
        dedup_key=f"{CHANNEL}:{MAJOR.key}",
        summary=MAJOR.summary,
        payload=MAJOR.data,
        package_id=FLATBLOCKS,
        grid_id=None,
        release_level="major",
    )


@pytest.mark.parametrize(
    ("case", "followers", "routes"),
    [
        ("one follower", [follower(1)], [(CHANNEL, 1)]),
        ("two subscriptions of one channel: one alert", [follower(1), follower(2)], [(CHANNEL, 1)]),
        (
            "two channels: one alert each",
            [follower(1), follower(2, OTHER_CHANNEL)],
            [(CHANNEL, 1), (OTHER_CHANNEL, 2)],
        ),
        ("no one", [], []),
    ],
)
def test_one_alert_per_channel(
    case: str, followers: list[Follower], routes: list[tuple[int, int]]
) -> None:
    """However many subscriptions of a channel reach a change, and however often the batch
    finds it, the channel gets one alert (through its first subscription)."""
    alerts = alerts_for([PATCH, PATCH], {FLATBLOCKS: followers}, by=Followed.PACKAGE)
    assert [(alert.channel_id, alert.subscription_id) for alert in alerts] == routes, case


@pytest.mark.parametrize(
    ("case", "news", "by", "followed", "hears"),
    [
        ("a package's change, to its followers", PATCH, Followed.PACKAGE, FLATBLOCKS, True),
        ("a package's change, not to another package's", PATCH, Followed.PACKAGE, 1, False),
        ("a member joining, to the grid's followers", JOINED, Followed.GRID, GRID.id, True),
        ("a member joining, not to another grid's", JOINED, Followed.GRID, GRID.id + 1, False),
        ("a change outside any grid has no grid audience", PATCH, Followed.GRID, FLATBLOCKS, False),
    ],
)
def test_followers_by_what_they_follow(
    case: str, news: Change, by: Followed, followed: int, hears: bool
) -> None:
    everything = frozenset(Event)
    alerts = alerts_for([news], {followed: [follower(events=everything)]}, by=by)
    assert bool(alerts) is hears, case


# -- yanks: the latest to every follower, an older release where it was announced -------------

LATEST_YANKED = yanked_change(FLATBLOCKS, "flatblocks", "1.0.1", None, "1.0.0", of_latest=True)
OLDER_YANKED = yanked_change(FLATBLOCKS, "flatblocks", "1.0.0", None, "1.0.1", of_latest=False)
TOLD_1_0_0 = f"{CHANNEL}:{FLATBLOCKS}:release:1.0.0"  # the release alert it reached
TOLD_1_0_1 = f"{CHANNEL}:{FLATBLOCKS}:release:1.0.1"


@pytest.mark.parametrize(
    ("case", "news", "told", "heard_by"),
    [
        ("the latest: every follower", LATEST_YANKED, set(), [CHANNEL, OTHER_CHANNEL]),
        ("an older release: the channel told of it", OLDER_YANKED, {TOLD_1_0_0}, [CHANNEL]),
        ("an older release: no one told of it", OLDER_YANKED, set(), []),
        ("an older release: told of another release only", OLDER_YANKED, {TOLD_1_0_1}, []),
    ],
)
def test_a_yank_reaches_the_channels_told_of_the_release(
    case: str, news: Change, told: set[str], heard_by: list[int]
) -> None:
    followers = {FLATBLOCKS: [follower(1), follower(2, OTHER_CHANNEL)]}
    alerts = alerts_for([news], followers, by=Followed.PACKAGE, told=told)
    assert [alert.channel_id for alert in alerts] == heard_by, case


def test_the_release_alerts_a_yank_asks_about_are_each_followers_of_that_release() -> None:
    followers = {FLATBLOCKS: [follower(1), follower(2, OTHER_CHANNEL), follower(3)]}

    needed = evidence_needed([LATEST_YANKED, OLDER_YANKED, PATCH], followers, by=Followed.PACKAGE)

    assert needed == {
        CHANNEL: {TOLD_1_0_0},
        OTHER_CHANNEL: {f"{OTHER_CHANNEL}:{FLATBLOCKS}:release:1.0.0"},
    }


# -- health events under each channel's staleness rule -------------------------------------------

#: django-flatblocks' last change a day short of the global threshold: it goes stale between
#: NOW and LATER under the global rule.
AGEING = record(last_updated=(NOW - timedelta(days=DAYS - 1)).isoformat())
#: The same package quiet for 99 days: nothing moves under the global rule, but it goes stale
#: between NOW and LATER for a channel with a 100-day threshold.
QUIET = record(last_updated=(NOW - timedelta(days=99)).isoformat())
RULES = {
    CHANNEL: ChannelStaleness(DAYS),
    OTHER_CHANNEL: ChannelStaleness(DAYS),
}


@pytest.mark.parametrize(
    ("case", "package", "other_rule", "heard_by"),
    [
        ("the global rule: both hear", AGEING, ChannelStaleness(DAYS), [CHANNEL, OTHER_CHANNEL]),
        ("a lenient threshold: only the global channel", AGEING, ChannelStaleness(3000), [CHANNEL]),
        (
            "a feature-complete mark: never stale",
            AGEING,
            ChannelStaleness(DAYS, frozenset({FLATBLOCKS})),
            [CHANNEL],
        ),
        (
            "a stricter threshold crossed earlier: nothing new",
            AGEING,
            ChannelStaleness(100),
            [CHANNEL],
        ),
        (
            "a stricter threshold crossed now: only that channel",
            QUIET,
            ChannelStaleness(100),
            [OTHER_CHANNEL],
        ),
    ],
)
def test_health_events_follow_each_channels_rule(
    case: str, package: PackageRecord, other_rule: ChannelStaleness, heard_by: list[int]
) -> None:
    seen = observed(package, package, now=LATER)
    followers = {FLATBLOCKS: [follower(1), follower(2, OTHER_CHANNEL)]}
    rules = {**RULES, OTHER_CHANNEL: other_rule}
    alerts = package_alerts([seen], followers, rules)
    assert heard(alerts) == [(channel, "stale") for channel in heard_by], case


def test_other_events_reach_every_rule() -> None:
    seen = observed(AGEING, AGEING.model_copy(update={"pypi_version": "1.0.1"}), now=LATER)
    followers = {FLATBLOCKS: [follower(1), follower(2, OTHER_CHANNEL)]}
    rules = {**RULES, OTHER_CHANNEL: ChannelStaleness(3000)}
    assert sorted(heard(package_alerts([seen], followers, rules))) == [
        (CHANNEL, "release"),
        (CHANNEL, "stale"),
        (OTHER_CHANNEL, "release"),
    ]


def test_an_observation_without_followers_raises_nothing() -> None:
    assert package_alerts([observed(AGEING, AGEING, now=LATER)], {}, RULES) == []


@pytest.mark.parametrize(
    ("case", "package", "ruled", "may"),
    [
        ("a change", AGEING, frozenset(), True),
        ("no change", QUIET, frozenset(), False),
        ("no change, but a channel's own rule", QUIET, frozenset({FLATBLOCKS}), True),
    ],
)
def test_which_observations_are_worth_reading_followers_for(
    case: str, package: PackageRecord, ruled: frozenset[int], may: bool
) -> None:
    seen = observed(package, package, now=LATER)
    assert (may_alert([seen], ruled) == [seen]) is may, case
