"""What a new PyPI answer means: the pure decide step of the PyPI pass (`pypi_pass`).

Given what was stored of a project and what PyPI says now, `compare` finds the release to
announce (the newest version never announced, with the versions published in between), the
releases yanked since, and the Django versions the latest final release declares or stopped
declaring. `explain_rollbacks` then adjusts the release changes Django Packages raised in the
same light: a move back from a yanked release is a yank, and a yanked release is never
announced as new. Unknown (no stored answer, a failed request) is never a change.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from packaging.version import Version

from bot.core.events import Change, Event
from bot.core.events.compat import compat_change
from bot.core.events.release import release_change
from bot.core.events.yanked import yanked_change
from bot.core.pypi import PypiProject, PypiRelease, parse_version
from bot.core.pypi_checks import Checked, PypiTarget, StoredProject
from bot.core.pypi_names import normalise_project_name
from bot.refresh.schedule import retry_delay


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


def _state_known(previous: PypiProject, version: str) -> bool:
    """Whether the stored answer says what `version` was: always when it held the release
    set; otherwise only for its latest release (an answer without the set is unknown for the
    others, and unknown is never a change)."""
    return previous.releases is not None or version == previous.version


def _newest(versions: Iterable[str]) -> str | None:
    """The highest PEP 440 version among `versions` (None when none is one)."""
    parsed = [(p, v) for v in versions if (p := parse_version(v)) is not None]
    return max(parsed)[1] if parsed else None


def _fresh(
    before: Mapping[str, PypiRelease], now: Mapping[str, PypiRelease], announced: Collection[str]
) -> list[tuple[Version, str]]:
    """The releases new since `before`, neither yanked nor announced, oldest first."""
    return sorted(
        (parsed, version)
        for version, release in now.items()
        if version not in before
        and not release.yanked
        and version not in announced
        and (parsed := parse_version(version)) is not None
    )


def _announcements(fresh: list[tuple[Version, str]]) -> list[tuple[str, list[tuple[Version, str]]]]:
    """The versions to announce among `fresh` (not empty), each with the releases it may name
    as published since: the newest final with the older finals, a newer pre-release alone."""
    finals = [(p, v) for p, v in fresh if not p.is_prerelease]
    found = [(finals[-1][1], finals[:-1])] if finals else []
    if fresh[-1][0].is_prerelease:
        found.append((fresh[-1][1], []))
    return found


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
    last = parse_version(_newest([*announced, previous.version]) or "")
    fresh = [
        (parsed, version)
        for parsed, version in _fresh(before, now, announced)
        if previous.releases is not None or last is None or parsed > last
    ]
    if not fresh:
        return [], []
    known = frozenset(before) | frozenset(announced)
    changes: list[Change] = []
    announcing: list[str] = []
    for version, others in _announcements(fresh):
        between = [v for p, v in others if last is None or p > last]
        uploaded = now[version].uploaded
        changes.append(
            release_change(
                package_id,
                name,
                previous.version,
                version,
                known,
                uploaded=uploaded,
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
    latest = {previous.version, current.version}
    heard = {*announced, *latest}
    return [
        yanked_change(
            package_id,
            name,
            version,
            release.yanked_reason,
            current.version,
            of_latest=version in latest,
        )
        for version, release in now.items()
        if release.yanked
        and version in heard
        and _state_known(previous, version)
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


@dataclass(frozen=True, slots=True)
class PypiReply:
    """One request's outcome: a new project, a 304 (neither), or an error."""

    project: PypiProject | None = None
    etag: str | None = None
    error: str | None = None
    #: The error is PyPI's answer (no such project), not PyPI failing.
    answered: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    """What PyPI replied for one watched package's project (`name`)."""

    target: PypiTarget
    name: str
    reply: PypiReply


@dataclass(slots=True)
class PassDecision:
    """What one pass writes: the changes to announce, the versions they announce per
    package, and each request's outcome."""

    changes: list[Change] = field(default_factory=list)
    announcing: dict[int, list[str]] = field(default_factory=dict)
    checks: list[Checked] = field(default_factory=list)


def decide_pass(
    answers: Sequence[Answer],
    stored: Mapping[int, StoredProject],
    announced: Mapping[int, Collection[str]],
    titles: Mapping[int, str],
    *,
    now: datetime,
    interval: timedelta,
) -> PassDecision:
    """Each answer compared with the stored one of its package (`stored`, `announced`: as
    read for the packages with a new answer); a failure is asked again after the backoff, a
    304 or a new answer after `interval`."""
    decided = PassDecision()
    for answer in answers:
        pid, project = answer.target.package_id, answer.reply.project
        if project is None:
            decided.checks.append(_unread(answer, now, interval))
            continue
        previous, declared_before = _baseline(stored.get(pid), answer.name)
        name = titles.get(pid) or project.name
        found = compare(pid, name, previous, declared_before, project, announced.get(pid, {}))
        decided.changes += found.changes
        decided.announcing[pid] = found.announced
        decided.checks.append(
            Checked(
                pid,
                answer.name,
                now,
                now + interval,
                etag=answer.reply.etag,
                project=project,
                declared=found.declared,
            )
        )
    return decided


def _unread(answer: Answer, now: datetime, interval: timedelta) -> Checked:
    """A failed request (asked again after the backoff) or a 304 (only the times move)."""
    pid, error = answer.target.package_id, answer.reply.error
    if error is None:
        return Checked(pid, answer.name, now, now + interval)
    delay = retry_delay(interval, answer.target.failure_count + 1)
    return Checked(pid, answer.name, now, now + delay, error=error)


def _baseline(
    before: StoredProject | None, name: str
) -> tuple[PypiProject | None, tuple[str, ...]]:
    """The stored answer and declaration to compare with: none when there is no answer yet,
    or when the `pypi_url` now names another project (it starts afresh, a silent baseline)."""
    if before is None or before.project is None:
        return None, ()
    if normalise_project_name(before.project.name) != name:
        return None, ()
    return before.project, before.declared


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
            explained.append(
                yanked_change(change.package_id, name, old, reason, new, of_latest=True)
            )
            continue
        explained.append(change)
    return explained


def announced_releases(changes: Iterable[Change]) -> dict[int, list[str]]:
    """The release each new-release change announces, by package: remembered, so that the
    PyPI pass never announces it again."""
    return {
        change.package_id: [str(change.data["new"])]
        for change in changes
        if change.event == Event.RELEASE and change.data.get("kind") == "new"
    }
