"""Digest bypass: which alerts a digest channel still gets at once.

A channel's `digest_bypass` lists entries of two forms:

- an event name (`stale`, `removed`, …): every alert of that event;
- `release:LEVEL`: releases of that level *and above*, as a minimum release level reads
  (`bot.core.events.release.at_or_above`). `release:minor` lets minor and major releases through,
  `release:patch` every final release with a level; `release:pre` lets pre-releases through.

A release without a level (a rollback, a version that is not PEP 440, nothing to compare with)
matches only the plain `release` entry. `parse_entry` is the one validator, used by import
documents (`bot.app.transfer`) and `/settings digest`; `Bypass.of` reads stored entries for the
delivery queries (`storage.outbox.matches_bypass`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, cast, get_args

from bot.core.events import REGISTRY
from bot.core.events.base import EVENT_NAMES, Event, ReleaseLevel
from bot.core.events.release import at_or_above

RELEASE_PREFIX = "release:"
_LEVELS: frozenset[str] = frozenset(get_args(ReleaseLevel))
#: What an entry may be, for messages that say what is allowed.
ENTRY_FORMS = (
    f"event names ({EVENT_NAMES}), release:major, release:minor or release:patch "
    "(that level and above), release:pre"
)


class UnknownBypass(ValueError):
    """An entry that is neither an event name nor `release:LEVEL`; `entry` is its text."""

    def __init__(self, entry: str) -> None:
        super().__init__(f"unknown bypass {entry!r}")
        self.entry = entry


class BypassEntry(NamedTuple):
    """A parsed entry: a whole event, or releases from `level` up."""

    event: Event
    level: ReleaseLevel | None = None


def parse_entry(entry: str) -> BypassEntry:
    """One entry's meaning: "stale" is every stale alert, "release:minor" minor releases and
    above. Exact text only (callers fold case where people type); raises `UnknownBypass`."""
    name, qualified, level = entry.partition(":")
    if not qualified and name in Event._value2member_map_:
        return BypassEntry(Event(name))
    if name == Event.RELEASE and level in _LEVELS:
        return BypassEntry(Event.RELEASE, cast(ReleaseLevel, level))
    raise UnknownBypass(entry)


def validate(entries: Iterable[str]) -> tuple[str, ...]:
    """Entries checked (`UnknownBypass` on the first bad one), duplicates dropped, in order."""
    checked = tuple(dict.fromkeys(entries))
    for entry in checked:
        parse_entry(entry)
    return checked


def _readable(entries: Iterable[str]) -> Iterator[tuple[str, BypassEntry]]:
    """Stored entries with their meaning. Imports once stored unchecked ones (such as
    "stale:major"); they never matched an alert, so they are skipped rather than fatal."""
    for text in entries:
        try:
            entry = parse_entry(text)
        except UnknownBypass:
            continue
        yield text, entry


def usable(entries: Iterable[str]) -> list[str]:
    """The valid ones among stored entries (e.g. for an export that must import again)."""
    return [text for text, _ in _readable(entries)]


@dataclass(frozen=True, slots=True)
class Bypass:
    """What a bypass list lets through: whole events, and release levels (already expanded)."""

    events: frozenset[Event] = frozenset()
    release_levels: frozenset[ReleaseLevel] = frozenset()

    @property
    def kinds(self) -> frozenset[str]:
        """The names of the alert kinds under the whole events let through (`stale` lets the
        weekly stale report through as well)."""
        return frozenset(kind.name for kind in REGISTRY.values() if kind.event in self.events)

    @classmethod
    def of(cls, entries: Iterable[str]) -> Bypass:
        """What stored `entries` let through (invalid ones let nothing through)."""
        parsed = [entry for _, entry in _readable(entries)]
        return cls(
            frozenset(entry.event for entry in parsed if entry.level is None),
            frozenset(
                level
                for entry in parsed
                if entry.level is not None
                for level in at_or_above(entry.level)
            ),
        )
