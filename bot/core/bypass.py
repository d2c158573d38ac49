"""Digest bypass: which alerts a digest channel still gets at once.

A channel's `digest_bypass` lists entries of two forms:

- an event name (`stale`, `removed`, …): every alert of that event (and of the kinds under it:
  `stale` covers the weekly stale report);
- `NAME:QUALIFIER`, for a kind that takes qualifiers (`EventKind.bypass`): today
  `release:LEVEL`, releases of that level *and above*, as a minimum release level reads
  (`bot.core.events.release`). `release:minor` lets minor and major releases through,
  `release:patch` every final release with a level; `release:pre` lets pre-releases through.

A release without a level (a rollback, a version that is not PEP 440, nothing to compare with)
matches only the plain `release` entry. `parse_entry` is the one validator, used by import
documents (`bot.app.transfer`) and `/settings digest`; `Bypass.of` reads stored entries for the
delivery queries (`storage.outbox.matches_bypass`); `describe` words them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from bot.core.events import REGISTRY
from bot.core.events.base import EVENT_NAMES, Event, EventKind, ReleaseLevel

#: What an entry may be, for messages that say what is allowed.
ENTRY_FORMS = ", ".join(
    [f"event names ({EVENT_NAMES})"]
    + [kind.bypass.forms for kind in REGISTRY.values() if kind.bypass is not None]
)


class UnknownBypass(ValueError):
    """An entry that is neither an event name nor a kind's `NAME:QUALIFIER`; `entry` is its
    text."""

    def __init__(self, entry: str) -> None:
        super().__init__(f"unknown bypass {entry!r}")
        self.entry = entry


class BypassEntry(NamedTuple):
    """A parsed entry: a whole event, or the release `levels` a qualified entry lets through."""

    event: Event
    levels: frozenset[ReleaseLevel] | None = None


def _event_kind(name: str) -> EventKind | None:
    """The kind of the event `name` (a kind under another event, such as the stale report,
    is not named in a bypass)."""
    kind = REGISTRY.get(name)
    return kind if kind is not None and kind.name == kind.event.value else None


def parse_entry(entry: str) -> BypassEntry:
    """One entry's meaning: "stale" is every stale alert, "release:minor" minor releases and
    above. Exact text only (callers fold case where people type); raises `UnknownBypass`."""
    name, qualified, qualifier = entry.partition(":")
    kind = _event_kind(name)
    if kind is not None and not qualified:
        return BypassEntry(kind.event)
    if kind is not None and kind.bypass is not None and qualifier in kind.bypass.levels:
        return BypassEntry(kind.event, kind.bypass.levels[qualifier])
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


def describe(entries: Iterable[str]) -> str:
    """("stale", "release:minor") → "stale alerts, minor releases and above"."""
    return ", ".join(_describe_entry(entry) for entry in entries)


def _describe_entry(entry: str) -> str:
    name, _, qualifier = entry.partition(":")
    kind = _event_kind(name)
    if kind is not None and kind.bypass is not None and qualifier in kind.bypass.levels:
        return kind.bypass.describe(qualifier)
    return f"{entry} alerts"


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
            frozenset(entry.event for entry in parsed if entry.levels is None),
            frozenset(level for entry in parsed for level in entry.levels or ()),
        )
