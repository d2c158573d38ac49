"""`release`: the latest version on PyPI moved.

The new version is compared with every version known before (`DetectContext.known_versions`
plus the previous `pypi_version`), not only with the previous one:

| new version                          | kind      | level relative to                      |
|--------------------------------------|-----------|----------------------------------------|
| never seen, above all known          | `new`     | the highest known release              |
| never seen, below a known release    | `new`     | the highest known release below it;    |
|                                      |           | marked as a backport                   |
| already known (a rollback, a yank)   | `changed` | none                                   |

Levels come from PEP 440: `pre` for a pre- or dev release whatever it follows, otherwise
`major`, `minor` or `patch` by the first release component that differs (post releases are
patches). Pre-releases are not a base when a final release is known, so 2.0 after 1.9 and
2.0rc1 is a major release. A version that is not PEP 440, or has no known release to compare
with, has no level and passes every level filter.

A version appearing where there was none, with nothing known before, is the package's first
version on PyPI: announced, without a level (the first observation of a package, when
`pypi_version` may already be set, stays a silent baseline: see `detect_changes`).

PyPI's own release set (`bot.refresh.pypi_compare`) raises the same change, with the same key,
through `release_change`: whichever source sees a version first announces it, once per
channel, with its upload time and the versions published in between when PyPI says them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Literal, get_args

from packaging.version import InvalidVersion, Version

from bot.core.events.base import (
    AlertPreferences,
    BypassQualifiers,
    Card,
    Change,
    Data,
    DetectContext,
    Event,
    EventKind,
    Fact,
    Markup,
    ReleaseLevel,
    Snapshot,
    package_name,
)

#: Final-release levels, smallest first; "pre" stands apart from them.
_FINAL_LEVELS: tuple[ReleaseLevel, ...] = ("patch", "minor", "major")


@dataclass(frozen=True, slots=True)
class _Assessment:
    kind: Literal["new", "changed"]
    level: ReleaseLevel | None = None
    prerelease: bool = False
    #: The highest known release, when the new version is a backport below it.
    latest: str | None = None


@lru_cache(maxsize=8192)  # a package's known versions are compared again at every release
def _parse(text: str | None) -> Version | None:
    try:
        return Version(text) if text is not None else None
    except InvalidVersion:
        return None


def _same(old: str | None, new: str) -> bool:
    """Equal text, or two spellings of one PEP 440 version ("1.0" and "1.0.0")."""
    parsed_old = _parse(old)
    return old == new or (parsed_old is not None and parsed_old == _parse(new))


def _level(base: Version, new: Version) -> ReleaseLevel:
    if new.is_prerelease:
        return "pre"
    if new.major != base.major:
        return "major"
    if new.minor != base.minor:
        return "minor"
    return "patch"


def _assess(new: str, known: frozenset[str]) -> _Assessment:
    parsed = _parse(new)
    known_parsed = [v for v in map(_parse, known) if v is not None]
    if parsed is None:
        return _Assessment("changed" if new in known else "new")
    if parsed in known_parsed:
        return _Assessment("changed", prerelease=parsed.is_prerelease)
    bases = [v for v in known_parsed if not v.is_prerelease] or known_parsed
    below = [v for v in bases if v < parsed]
    if below:
        level: ReleaseLevel | None = _level(max(below), parsed)
    else:
        level = "pre" if parsed.is_prerelease else None
    above = [v for v in bases if v > parsed]
    latest = str(max(above)) if above else None
    return _Assessment("new", level, parsed.is_prerelease, latest)


def _wording(name: str, old: str | None, new: str, release: _Assessment, *, first: bool) -> str:
    if release.kind == "changed":
        return f"{name}: latest release is back to {new}" + (f" (was {old})" if old else "")
    details = ["first version on PyPI"] if first else []
    if release.level:
        details.append("pre-release" if release.level == "pre" else f"{release.level} release")
    if release.latest:
        details.append(f"backport, latest is {release.latest}")
    elif old:
        details.append(f"was {old}")
    return f"{name} {new} released" + (f" ({', '.join(details)})" if details else "")


def release_key(package_id: int, version: str) -> str:
    """The key of the change announcing `version` (either source's, so once per channel)."""
    return f"{package_id}:release:{version}"


def release_change(
    package_id: int,
    name: str,
    old: str | None,
    new: str,
    known: frozenset[str],
    *,
    uploaded: datetime | None = None,
    between: Sequence[str] = (),
) -> Change:
    """The change of `new` following `old`, given every version known before (`old` too).

    `uploaded` (PyPI's upload time) and `between` (versions published since the last
    announcement, below `new`) are said when known.
    """
    release = _assess(new, known)
    summary = _wording(name, old, new, release, first=not known)
    if between and release.kind == "new":
        summary += f"; also published since: {', '.join(between)}"
    return Change(
        event=Event.RELEASE,
        package_id=package_id,
        key=release_key(package_id, new),
        summary=summary,
        data={
            "old": old,
            "new": new,
            "kind": release.kind,
            "level": release.level,
            "prerelease": release.prerelease,
            "backport": release.latest is not None,
            "latest": release.latest,
            "uploaded": uploaded.isoformat() if uploaded else None,
            "between": list(between),
        },
        release_level=release.level,
    )


def detect(before: Snapshot, after: Snapshot, ctx: DetectContext) -> list[Change]:
    old, new = before.record.pypi_version, after.record.pypi_version
    if new is None or _same(old, new):
        return []
    known = ctx.known_versions | ({old} if old else frozenset())
    record = after.record
    return [release_change(record.id, package_name(record), old, new, known)]


def at_or_above(level: ReleaseLevel) -> frozenset[ReleaseLevel]:
    """The levels a "LEVEL and above" setting covers: "minor" → minor and major; "pre" → pre.

    Both a subscription's minimum level and a `release:LEVEL` digest bypass read this way.
    """
    if level not in _FINAL_LEVELS:
        return frozenset({level})
    return frozenset(_FINAL_LEVELS[_FINAL_LEVELS.index(level) :])


def accepts(preferences: AlertPreferences, change: Change) -> bool:
    """Apply the subscription's release level threshold and pre-release choice."""
    if change.data["prerelease"]:
        return preferences.include_prereleases
    level = change.release_level
    return level is None or level in at_or_above(preferences.min_release_level)


def card(data: Data, markup: Markup) -> Card:
    facts = [
        Fact("Version", markup.text(data.get("new"))),
        Fact("Previous", markup.text(data.get("old"))),
    ]
    if data.get("kind") == "new":
        level = "pre-release" if data.get("prerelease") else data.get("level") or "unknown"
        facts.append(Fact("Level", level))
    if data.get("latest"):
        facts.append(Fact("Latest", markup.text(data["latest"])))
    if data.get("uploaded"):
        facts.append(Fact("Uploaded", f"{str(data['uploaded'])[:16].replace('T', ' ')} UTC"))
    if data.get("between"):
        facts.append(Fact("Also published since", markup.text(", ".join(data["between"])), False))
    return Card(facts)


#: `release:LEVEL` digest-bypass entries: releases of that level and above, as a minimum release
#: level reads; `release:pre` lets pre-releases through.
BYPASS = BypassQualifiers(
    levels={level: at_or_above(level) for level in get_args(ReleaseLevel)},
    noun="releases",
    forms="release:major, release:minor or release:patch (that level and above), release:pre",
)


KIND = EventKind(
    Event.RELEASE,
    colour=0x2ECC71,
    detect=detect,
    accepts=accepts,
    card=card,
    bypass=BYPASS,
)
