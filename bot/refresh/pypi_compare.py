"""What a new PyPI answer means: the pure decide step of the PyPI pass (`pypi_pass`).

Given what was stored of a project and what PyPI says now, `compare` finds the release to
announce (the newest version never announced, with the versions published in between), the
releases yanked since, and the Django versions the latest final release declares or stopped
declaring. `explain_rollbacks` then adjusts the release changes Django Packages raised in the
same light: a move back from a yanked release is a yank, and a yanked release is never
announced as new. Unknown (no stored answer, a failed request) is never a change.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from bot.core.events import Change, Event
from bot.core.events.compat import compat_change
from bot.core.events.release import release_change
from bot.core.events.yanked import yanked_change
from bot.core.pypi import PypiProject, PypiRelease, parse_version


@dataclass(frozen=True, slots=True)
class Decision:
    """The changes of one new answer, the versions they announce, and what `compat` compares
    the next answer with."""

    changes: list[Change]
    announced: list[str]
    declared: tuple[str, ...]


def _releases(project: PypiProject) -> Mapping[str, PypiRelease]:
    """The release set, or just the latest release when PyPI left the set out."""
    if project.releases is not None:
        return project.releases
    return {project.version: PypiRelease(project.version, project.released, project.yanked)}


def _newest(versions: Iterable[str]) -> str | None:
    """The highest PEP 440 version among `versions` (None when none is one)."""
    parsed = [(p, v) for v in versions if (p := parse_version(v)) is not None]
    return max(parsed)[1] if parsed else None


def _releases_to_announce(
    package_id: int,
    name: str,
    previous: PypiProject,
    current: PypiProject,
    announced: Collection[str],
) -> tuple[list[Change], list[str]]:
    """The release changes and the versions they announce.

    The newest new final release is announced, naming the finals published since the last
    announcement below it; a newer pre-release is announced on its own, so a channel that
    leaves pre-releases out still hears of the final release.
    """
    before, now = _releases(previous), _releases(current)
    fresh = sorted(
        (parsed, version)
        for version, release in now.items()
        if version not in before
        and not release.yanked
        and version not in announced
        and (parsed := parse_version(version)) is not None
    )
    if not fresh:
        return [], []
    last = parse_version(_newest([*announced, previous.version]) or "")
    known = frozenset(before) | frozenset(announced)
    finals = [(p, v) for p, v in fresh if not p.is_prerelease]
    pre = fresh[-1] if fresh[-1][0].is_prerelease else None
    changes: list[Change] = []
    announcing: list[str] = []
    for newest, others in (
        (finals[-1] if finals else None, finals[:-1]),
        (pre, []),
    ):
        if newest is None:
            continue
        between = [v for p, v in others if last is None or p > last]
        version = newest[1]
        changes.append(
            release_change(
                package_id,
                name,
                previous.version,
                version,
                known,
                uploaded=now[version].uploaded,
                between=between,
            )
        )
        announcing += [version, *between]
    return changes, announcing


def _yanks(
    package_id: int,
    name: str,
    previous: PypiProject,
    current: PypiProject,
    announced: Collection[str],
) -> list[Change]:
    """A change per release that PyPI marks yanked now, not before, and that was announced or
    is (or was) the latest."""
    before, now = _releases(previous), _releases(current)
    heard = {*announced, previous.version, current.version}
    return [
        yanked_change(package_id, name, version, release.yanked_reason, current.version)
        for version, release in now.items()
        if release.yanked
        and version in heard
        and not (version in before and before[version].yanked)
    ]


def declared_by(project: PypiProject, declared_before: tuple[str, ...]) -> tuple[str, ...]:
    """What the latest final release declares, or the last declaration when it says nothing."""
    return project.django_versions if project.final and project.django_versions else declared_before


def compare(
    package_id: int,
    name: str,
    previous: PypiProject | None,
    declared_before: tuple[str, ...],
    current: PypiProject,
    announced: Collection[str],
) -> Decision:
    """The changes between the stored answer (`previous`, None: first answer, a silent
    baseline) and `current`; `announced` holds the versions already announced."""
    declared = declared_by(current, declared_before)
    if previous is None:
        return Decision([], [], declared)
    changes, announcing = _releases_to_announce(package_id, name, previous, current, announced)
    changes += _yanks(package_id, name, previous, current, announced)
    if current.final:
        compat = compat_change(
            package_id, name, current.version, declared_before, current.django_versions
        )
        if compat is not None:
            changes.append(compat)
    return Decision(changes, announcing, declared)


def explain_rollbacks(
    changes: list[Change], projects: Mapping[int, PypiProject], names: Mapping[int, str]
) -> list[Change]:
    """Django Packages' release changes in the light of PyPI's stored answer.

    A move away from a release PyPI marks yanked becomes that yank (the same change the PyPI
    pass raises, so a channel hears it once); a move to a yanked release is dropped. A package
    PyPI says nothing about keeps its changes.
    """
    explained: list[Change] = []
    for change in changes:
        project = projects.get(change.package_id)
        if change.event != Event.RELEASE or project is None:
            explained.append(change)
            continue
        releases = _releases(project)
        old, new = change.data.get("old"), str(change.data["new"])
        if new in releases and releases[new].yanked:
            continue
        if isinstance(old, str) and old in releases and releases[old].yanked:
            reason = releases[old].yanked_reason
            name = names.get(change.package_id, project.name)
            explained.append(yanked_change(change.package_id, name, old, reason, new))
            continue
        explained.append(change)
    return explained
