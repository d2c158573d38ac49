"""What every event kind shares: its name, the change value, the detection context, and how an
alert of the kind is shown (card facts and colour, digest line, whether it pings)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal, NamedTuple, Protocol, get_args

# Re-exported: the kinds import a card's types from here.
from bot.core.card import Card as Card
from bot.core.card import Fact as Fact
from bot.core.health import Activity, Health, HealthState, classify, state_at
from bot.core.records import PackageRecord


class Event(StrEnum):
    """The kinds of alert a subscription can ask for (DESIGN.md, Events)."""

    RELEASE = "release"
    ACTIVITY = "activity"
    STALE = "stale"
    POPULARITY = "popularity"
    GRID = "grid"
    REPO = "repo"
    REMOVED = "removed"
    ADVISORY = "advisory"
    COMPAT = "compat"
    YANKED = "yanked"


DEFAULT_EVENTS: frozenset[Event] = frozenset(Event) - {Event.REPO}
EVENT_NAMES = ", ".join(event.value for event in Event)
_SEPARATORS = re.compile(r"[\s,]+")


class UnknownEvent(ValueError):
    """A name that is no event; `str(error)` lists the valid ones."""


def parse_events(text: str) -> frozenset[Event]:
    """ "release, stale" → those events; "all" → every event; "" or "default" → the default."""
    names = [name.lower() for name in _SEPARATORS.split(text) if name]
    if names == ["all"]:
        return frozenset(Event)
    if names in ([], ["default"]):
        return DEFAULT_EVENTS
    unknown = [name for name in names if name not in Event._value2member_map_]
    if unknown:
        raise UnknownEvent(f"Unknown event {unknown[0]!r}: choose from {EVENT_NAMES}.")
    return frozenset(Event(name) for name in names)


#: How far a release moved (`bot.core.events.release`): the one release-level type, for the
#: alerts' `release_level` column, digest bypasses, the CLI and the slash options.
ReleaseLevel = Literal["major", "minor", "patch", "pre"]
#: The final-release levels, which a subscription's minimum level may name.
MinReleaseLevel = Literal["major", "minor", "patch"]
MIN_RELEASE_LEVELS: tuple[MinReleaseLevel, ...] = get_args(MinReleaseLevel)


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that changed about a package or a grid, ready to become an alert.

    `key` identifies the change for deduplication (a channel id is prefixed per channel), e.g.
    `265:release:1.0.1`; a value that flaps back and forth produces the same key again and is
    announced once. `data` is JSON-serialisable and carries what a renderer needs.
    """

    event: Event
    package_id: int
    key: str
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    grid_id: int | None = None
    #: A release's level, kept beside `data` so delivery can filter on it (digest bypass).
    release_level: ReleaseLevel | None = None


@dataclass(frozen=True, slots=True)
class DetectContext:
    """What change detection needs besides the two records.

    `previous_at` is when the previous record was observed and `now` when the new one was:
    health depends on time, so each record is classified at its own moment. `known_versions`
    holds every `pypi_version` seen for the package before, so a rollback is told apart from a
    new release.
    """

    now: datetime
    previous_at: datetime | None
    stale_after_days: int
    feature_complete: bool = False
    known_versions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AlertPreferences:
    """What one subscription wants to hear about; the default is what a new one gets."""

    events: frozenset[Event] = DEFAULT_EVENTS
    min_release_level: MinReleaseLevel = "patch"
    include_prereleases: bool = True


@dataclass(frozen=True)
class Snapshot:
    """A record as observed at `at`, with its health under one staleness rule: the state is
    cheap and read first; the health with its worded reasons is built only when asked (by a
    kind whose state moved)."""

    record: PackageRecord
    at: datetime
    stale_after_days: int
    feature_complete: bool = False

    @cached_property
    def state(self) -> HealthState:
        return state_at(
            Activity.of(self.record),
            now=self.at,
            stale_after_days=self.stale_after_days,
            feature_complete=self.feature_complete,
        )

    @cached_property
    def health(self) -> Health:
        return classify(
            self.record,
            now=self.at,
            stale_after_days=self.stale_after_days,
            feature_complete=self.feature_complete,
        )


class OutboxAlert(Protocol):
    """What a kind reads of an outbox alert (`storage.models.Alert` has it)."""

    @property
    def event(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def package_id(self) -> int | None: ...
    @property
    def grid_id(self) -> int | None: ...
    @property
    def release_level(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...


class Markup(Protocol):
    """How a kind writes upstream text into a card; `bot.messages.alerts` escapes and links."""

    def text(self, value: object) -> str:
        """Upstream text shown literally, or a dash when there is none."""
        ...

    def bullets(self, items: Iterable[str]) -> str:
        """Upstream lines as a bulleted list."""
        ...

    def urls(self, items: Iterable[str]) -> str:
        """Upstream URLs as a bulleted list of live links (those fit to be one; others inert)."""
        ...

    def grid(self, slug: str | None, title: str | None) -> str:
        """A grid's title linking to its page (just the title without a slug)."""
        ...

    def stale_line(self, slug: str, title: str | None, reasons: Iterable[str]) -> str:
        """A listed stale package, linking to its page, and why it is stale."""
        ...


class DigestLine(NamedTuple):
    """Where an alert goes in a digest: under `group` (None: its package), in `section`, as
    `text` (upstream text, escaped by the digest)."""

    group: str | None
    section: str
    text: str


@dataclass(frozen=True, slots=True)
class BypassQualifiers:
    """How a kind reads `NAME:QUALIFIER` digest-bypass entries (`bot.core.bypass`): the release
    levels each qualifier lets through, the `noun` its wording uses, and the `forms` an error
    message lists."""

    levels: Mapping[str, frozenset[ReleaseLevel]]
    noun: str
    forms: str

    def describe(self, qualifier: str) -> str:
        """ "minor" → "minor releases and above"; "major" → "major releases"."""
        above = " and above" if len(self.levels[qualifier]) > 1 else ""
        return f"{qualifier} {self.noun}{above}"


Data = Mapping[str, Any]
Detector = Callable[[Snapshot, Snapshot, DetectContext], list[Change]]
Filter = Callable[[AlertPreferences, Change], bool]
Carder = Callable[[Data, Markup], Card]
Digester = Callable[[OutboxAlert], DigestLine]
DEFAULT_COLOUR = 0x95A5A6


def accept_all(preferences: AlertPreferences, change: Change) -> bool:
    """The filter of kinds a subscription takes or leaves whole."""
    return True


def no_card(data: Data, markup: Markup) -> Card:
    """The card of a kind whose summary says it all."""
    return Card()


def by_package(alert: OutboxAlert) -> DigestLine:
    """The digest line of most kinds: the summary, under the package, in the event's section."""
    return DigestLine(None, alert.event, alert.summary)


@dataclass(frozen=True, slots=True)
class EventKind:
    """One registry entry: everything about one kind of alert.

    `name` is what an outbox alert's `event` says; `event` is the event a subscription asks
    for to get it, and a digest-bypass entry naming that event lets it through (the weekly
    stale report is its own kind under `stale`); `bypass` says what a qualified entry
    (`release:minor`) means, for the kinds that take one. `detect` is None for kinds raised by other
    means (grid membership, removal, the weekly report). `pings` is False for kinds that are
    lists rather than news: their subscription's role is never mentioned for them.
    `follows_health` kinds depend on a channel's staleness rule, so the poll cycle detects them
    once per rule among a package's channels.
    """

    event: Event
    colour: int = DEFAULT_COLOUR
    detect: Detector | None = None
    accepts: Filter = accept_all
    card: Carder = no_card
    digest: Digester = by_package
    pings: bool = True
    follows_health: bool = False
    bypass: BypassQualifiers | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.event.value)


def one_line(text: str) -> str:
    """Upstream text squeezed onto one line, for summaries."""
    return " ".join(text.split())


def package_name(record: PackageRecord) -> str:
    """The name a summary shows: the title, or the slug when the title is blank."""
    return one_line(record.title) or record.slug


def commit_date(health: Health) -> str:
    """The last commit date for a dedup key ("2022-02-15"), or "unknown"."""
    return f"{health.last_commit:%Y-%m-%d}" if health.last_commit else "unknown"


def health_data(health: Health) -> dict[str, Any]:
    """A health as JSON-ready `Change.data` entries."""
    return {
        "state": health.state.value,
        "last_commit": health.last_commit.isoformat() if health.last_commit else None,
        "weeks_since_commit": health.weeks_since_commit,
        "reasons": list(health.reasons),
    }


def health_card(data: Data, markup: Markup) -> Card:
    """The card of a health change (`health_data` plus the previous state)."""
    last_commit = (data.get("last_commit") or "unknown")[:10]
    facts = [
        Fact("State", f"{data.get('previous_state', 'unknown')} → {data.get('state', 'unknown')}"),
        Fact("Last commit", last_commit),
    ]
    reasons = data.get("reasons") or []
    if reasons:
        facts.append(Fact("Why", markup.bullets(reasons), False))
    return Card(facts)
