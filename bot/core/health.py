"""How alive a package is, with the reasons a person can check.

The state is driven by the age of the last commit, never by raw differences between two commit
windows, so a window that merely shifts by a week changes nothing until a threshold is crossed.

Where the last commit date comes from:

- `last_updated` is the exact date of the newest commit on the default branch.
- `commits_over_52` is read as 52 seven-day buckets ending at `last_fetched` (the moment the
  window was computed; `now` when unknown), newest last. The newest non-zero bucket proves a
  commit no older than that bucket's start, which overrides `last_updated` only when it is newer
  (the window can be fresher than `last_updated`, never the other way round).
- A window of 52 zero weeks with no `last_updated` proves 52 quiet weeks and no more (nothing
  says what came before the window, or after `last_fetched`), so the age is taken as exactly 52
  weeks: such a package is `dormant`, and `stale` only under a threshold shorter than 364 days.
- No `last_updated` and an empty window: nothing is known, the state is `unknown`.

| state    | last commit age                                                           |
|----------|---------------------------------------------------------------------------|
| active   | ≤ `ACTIVE_DAYS` (13 weeks: any commit in the last 13 weeks of the window)  |
| slowing  | ≤ `SLOWING_DAYS` (26 weeks)                                               |
| dormant  | older than that                                                           |
| stale    | older than the channel's `stale_after_days` (default 365), unless the     |
|          | package is marked feature-complete, which keeps it `dormant`              |
| unknown  | no commit information at all                                              |

Whatever the state, a `last_fetched` older than `FETCH_LAG_DAYS` is among the reasons: a row
Django Packages stopped refreshing usually means the repository is archived, gone or erroring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from bot.core.plural import counted
from bot.core.records import COMMIT_WEEKS, PackageRecord
from bot.core.sparkline import window_words
from bot.core.timefmt import describe_age

ACTIVE_DAYS = 91
SLOWING_DAYS = 182
FETCH_LAG_DAYS = 14
WEEK = timedelta(weeks=1)


class HealthState(StrEnum):
    ACTIVE = "active"
    SLOWING = "slowing"
    DORMANT = "dormant"
    STALE = "stale"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Health:
    """A package's state and the reasons for it, as of one moment.

    `weeks_since_commit` is a lower bound when `last_commit` is None (only a window of zero
    weeks is known); `quiet_for` words it either way.
    """

    state: HealthState
    reasons: tuple[str, ...]
    last_commit: datetime | None = None
    weeks_since_commit: int | None = None

    @property
    def quiet_for(self) -> str | None:
        """The quiet spell in words: "12 weeks", or "at least 52 weeks" for a lower bound."""
        if self.weeks_since_commit is None:
            return None
        weeks = self.weeks_since_commit
        span = counted(weeks, "week")
        return span if self.last_commit is not None else f"at least {span}"


def newest_busy_week(commits: Sequence[int]) -> int | None:
    """How many weeks before the window's end its newest week with commits ends (0: the last
    week), `COMMIT_WEEKS` for a window of zeros, None for an unknown window (`[]`)."""
    if not commits:
        return None
    return next((weeks for weeks, n in enumerate(reversed(commits)) if n), COMMIT_WEEKS)


class Activity(NamedTuple):
    """What a record says about its commits, reduced to what its health needs: a refresh can
    judge a package whose content did not move from these stored columns, without its record
    (a `NamedTuple`: a refresh builds one per package).

    `newest_busy_week` is `newest_busy_week(record.commits_over_52)`, counted back from
    `last_fetched` (the moment the window was read).
    """

    last_updated: datetime | None
    newest_busy_week: int | None
    last_fetched: datetime | None

    @classmethod
    def of(cls, record: PackageRecord) -> Activity:
        busy = newest_busy_week(record.commits_over_52)
        return cls(record.last_updated, busy, record.last_fetched)


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What the record says about the last commit, read at `now`."""

    last_commit: datetime | None
    exact: bool
    age: timedelta
    #: The window is all zeros and agrees with the date: "no commits in the last 52 weeks".
    window_quiet: bool
    #: When Django Packages counted the window (it ends then); None if unknown.
    counted_at: datetime | None


def _newest_commit(activity: Activity, now: datetime) -> tuple[datetime, bool] | None:
    """The newest commit the activity dates, and whether that date is exact (`last_updated`)
    or the start of the window's newest busy week; None when it dates none."""
    busy, updated = activity.newest_busy_week, activity.last_updated
    window_date = (
        None
        if busy is None or busy == COMMIT_WEEKS
        else (activity.last_fetched or now) - (busy + 1) * WEEK
    )
    if updated is not None and (window_date is None or updated >= window_date):
        return updated, True
    if window_date is not None:
        return window_date, False
    return None


def _age(
    activity: Activity, newest: tuple[datetime, bool] | None, now: datetime
) -> timedelta | None:
    """How long ago the last commit was (52 weeks for a quiet window alone), None if unknown;
    `newest` is `_newest_commit(activity, now)`."""
    if newest is not None:
        return max(now - newest[0], _NO_TIME)
    return COMMIT_WEEKS * WEEK if activity.newest_busy_week == COMMIT_WEEKS else None


def _evidence(activity: Activity, now: datetime) -> _Evidence | None:
    newest = _newest_commit(activity, now)
    age = _age(activity, newest, now)
    if age is None:
        return None
    if newest is None:  # a quiet window alone
        return _Evidence(None, False, age, window_quiet=True, counted_at=activity.last_fetched)
    when, exact = newest
    quiet = (
        activity.newest_busy_week == COMMIT_WEEKS
        and when <= (activity.last_fetched or now) - COMMIT_WEEKS * WEEK
    )
    return _Evidence(when, exact, age, quiet, activity.last_fetched)


_NO_TIME = timedelta(0)
_ACTIVE_AGE = timedelta(days=ACTIVE_DAYS)
_SLOWING_AGE = timedelta(days=SLOWING_DAYS)


def _state(age: timedelta, stale_after_days: int) -> HealthState:
    if age.days >= stale_after_days and age > timedelta(days=stale_after_days):
        return HealthState.STALE
    if age <= _ACTIVE_AGE:
        return HealthState.ACTIVE
    if age <= _SLOWING_AGE:
        return HealthState.SLOWING
    return HealthState.DORMANT


def _commit_reasons(evidence: _Evidence, now: datetime) -> list[str]:
    reasons = []
    if evidence.last_commit is not None:
        when = f"{evidence.last_commit:%Y-%m-%d}"
        what = f"last commit {when}" if evidence.exact else f"last commits in the week of {when}"
        reasons.append(f"{what} ({describe_age(evidence.last_commit, now)})")
    if evidence.window_quiet:
        reasons.append(f"no commits in {window_words(COMMIT_WEEKS, evidence.counted_at, now)}")
    return reasons


def _fetch_lag_reason(record: PackageRecord, now: datetime) -> str | None:
    if record.last_fetched is None:
        return None
    lag = (now - record.last_fetched).days
    if lag <= FETCH_LAG_DAYS:
        return None
    return f"Django Packages stopped refreshing it {lag} days ago"


def _judge(
    evidence: _Evidence, now: datetime, stale_after_days: int, feature_complete: bool
) -> Health:
    state = _state(evidence.age, stale_after_days)
    reasons = _commit_reasons(evidence, now)
    if state is HealthState.STALE:
        if feature_complete:
            reasons.append("marked feature-complete")
        else:
            reasons.append(f"quiet for longer than the {stale_after_days}-day staleness threshold")
    state = _marked(state, feature_complete)
    return Health(state, tuple(reasons), evidence.last_commit, evidence.age // WEEK)


def _marked(state: HealthState, feature_complete: bool) -> HealthState:
    """A feature-complete package is never stale: it stays dormant."""
    return HealthState.DORMANT if state is HealthState.STALE and feature_complete else state


def state_at(
    activity: Activity,
    *,
    now: datetime,
    stale_after_days: int,
    feature_complete: bool = False,
) -> HealthState:
    """`classify(...).state` without wording the reasons: cheap enough for every package of a
    refresh cycle, to find the few whose state moved."""
    age = _age(activity, _newest_commit(activity, now), now)
    if age is None:
        return HealthState.UNKNOWN
    return _marked(_state(age, stale_after_days), feature_complete)


def classify(
    record: PackageRecord,
    *,
    now: datetime,
    stale_after_days: int,
    feature_complete: bool = False,
) -> Health:
    """The package's health as seen at `now` (see the module docstring for the thresholds)."""
    evidence = _evidence(Activity.of(record), now)
    if evidence is None:
        health = Health(HealthState.UNKNOWN, ("no commit information from Django Packages yet",))
    else:
        health = _judge(evidence, now, stale_after_days, feature_complete)
    lag = _fetch_lag_reason(record, now)
    return health if lag is None else replace(health, reasons=(*health.reasons, lag))
