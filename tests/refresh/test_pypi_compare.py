"""The decide step of the PyPI pass: what a new answer means, from stored answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.events import Change, Event
from bot.core.events.release import release_change
from bot.core.events.yanked import yanked_change
from bot.core.pypi import PypiProject, PypiRelease
from bot.core.pypi_checks import PypiTarget, StoredProject
from bot.refresh.pypi_compare import (
    Answer,
    PypiReply,
    announced_releases,
    compare,
    decide_pass,
    explain_rollbacks,
)

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PID = 265


def project(
    version: str,
    *versions: str,
    django: tuple[str, ...] = ("4.2", "5.0"),
    yanked: dict[str, str | None] | None = None,
) -> PypiProject:
    yanked = yanked or {}
    releases = {v: PypiRelease(v, AT, v in yanked, yanked.get(v)) for v in (*versions, version)}
    return PypiProject("flatblocks", version, AT, ">=3.10", django, False, None, releases)


def events(changes: list[Change]) -> list[tuple[Event, str]]:
    return [(change.event, change.summary) for change in changes]


def test_the_first_answer_is_a_silent_baseline() -> None:
    decision = compare(PID, "flatblocks", None, (), project("1.0", "0.9"), {})

    assert (decision.changes, decision.announced, decision.declared) == ([], [], ("4.2", "5.0"))


def test_the_newest_new_release_is_announced_with_those_published_in_between() -> None:
    before = project("1.0", "0.9")
    after = project("1.3", "0.9", "1.0", "1.1", "1.2")

    decision = compare(PID, "flatblocks", before, ("4.2", "5.0"), after, {"1.0": AT})

    [release] = decision.changes
    assert release.summary == (
        "flatblocks 1.3 released (minor release, was 1.0); also published since: 1.1, 1.2"
    )
    assert release.key == f"{PID}:release:1.3"  # the key Django Packages' release uses
    assert release.data["uploaded"] == AT.isoformat()
    assert decision.announced == ["1.3", "1.1", "1.2"]


def test_a_new_pre_release_does_not_hide_a_new_final_release() -> None:
    before = project("1.0")
    after = project("1.0", "1.0.1", "2.0b1")

    decision = compare(PID, "flatblocks", before, (), after, {})

    assert [(c.data["new"], c.data["prerelease"]) for c in decision.changes] == [
        ("1.0.1", False),
        ("2.0b1", True),
    ]
    assert decision.announced == ["1.0.1", "2.0b1"]


def test_a_release_already_announced_or_yanked_is_not_announced() -> None:
    before = project("1.0")
    after = project("1.2", "1.0", "1.1", yanked={"1.2": "broken"})

    decision = compare(PID, "flatblocks", before, (), after, {"1.1": AT})

    assert [c.event for c in decision.changes] == [Event.YANKED]
    assert decision.announced == []


def test_a_yank_of_an_announced_release_is_news_once() -> None:
    before = project("1.1", "1.0")
    after = project("1.0", "1.1", yanked={"1.1": "Broken wheel"})

    first = compare(PID, "flatblocks", before, ("4.2", "5.0"), after, {"1.1": AT})
    again = compare(PID, "flatblocks", after, ("4.2", "5.0"), after, {"1.1": AT})

    assert events(first.changes) == [
        (Event.YANKED, "flatblocks 1.1 was yanked from PyPI: Broken wheel")
    ]
    assert again.changes == []


@pytest.mark.parametrize(
    ("case", "after", "of_latest"),
    [
        ("the latest, yanked", project("1.0", "1.1", yanked={"1.1": None}), True),
        ("an older release, yanked", project("1.1", "1.0", yanked={"1.0": None}), False),
    ],
)
def test_a_yank_says_whether_it_was_of_the_latest_release(
    case: str, after: PypiProject, of_latest: bool
) -> None:
    """Every follower hears of the latest release yanked; only those told of an older release
    hear of its yank (`bot.refresh.audience.hears`)."""
    before = project("1.1", "1.0")

    decision = compare(PID, "flatblocks", before, (), after, {"1.0": AT, "1.1": AT})

    [yank] = decision.changes
    assert (yank.event, yank.data["of_latest"]) == (Event.YANKED, of_latest), case


def test_compat_compares_with_the_last_release_that_declared_something() -> None:
    declared = compare(
        PID, "f", project("1.0"), ("4.2", "5.0"), project("1.1", "1.0", django=()), {}
    )
    added = compare(
        PID,
        "f",
        project("1.1", "1.0"),
        declared.declared,
        project("1.2", "1.1", django=("4.2", "5.0", "5.1")),
        {},
    )

    assert [c.event for c in declared.changes] == [Event.RELEASE]  # none: unknown, not dropped
    assert declared.declared == ("4.2", "5.0")
    assert [c.summary for c in added.changes if c.event == Event.COMPAT] == [
        "f 1.2 now declares Django 5.1"
    ]


def test_a_pre_release_never_counts_as_support() -> None:
    prerelease = replace(project("2.0b1", "1.0", django=("5.0", "5.1")), releases=None)

    decision = compare(PID, "f", project("1.0"), ("4.2", "5.0"), prerelease, {})

    assert [c.event for c in decision.changes] == [Event.RELEASE]
    assert decision.declared == ("4.2", "5.0")


def django_packages_release(old: str, new: str) -> Change:
    return release_change(PID, "flatblocks", old, new, frozenset({old, "1.0"}))


def test_moving_back_from_a_yanked_release_is_that_yank() -> None:
    pypi = project("1.0", "1.1", yanked={"1.1": "Broken wheel"})

    [change] = explain_rollbacks([django_packages_release("1.1", "1.0")], {PID: pypi}, {})

    assert (change.event, change.key) == (Event.YANKED, f"{PID}:yanked:1.1")
    assert change.data["latest"] == "1.0"
    assert change.data["of_latest"], "Django Packages' latest was the yanked release"


def test_a_yanked_release_is_never_announced_as_new_and_unknown_changes_nothing() -> None:
    pypi = project("1.0", "1.1", yanked={"1.1": None})
    move = django_packages_release("1.0", "1.1")

    assert explain_rollbacks([move], {PID: pypi}, {}) == []
    assert explain_rollbacks([move], {}, {}) == [move]


HOUR = timedelta(hours=1)


def answer(reply: PypiReply, *, failures: int = 0, name: str = "flatblocks") -> Answer:
    target = PypiTarget(PID, f"https://pypi.org/project/{name}/", "e0", AT, AT, failures)
    return Answer(target, name, reply)


@pytest.mark.parametrize(
    ("reply", "failures", "next_check", "error"),
    [
        (PypiReply(error="PyPI timed out"), 0, AT + HOUR, "PyPI timed out"),
        (PypiReply(error="PyPI timed out"), 2, AT + 4 * HOUR, "PyPI timed out"),  # backing off
        (PypiReply(error="no such project", answered=True), 0, AT + HOUR, "no such project"),
        (PypiReply(etag="e0"), 3, AT + HOUR, None),  # a 304: only the times move
    ],
    ids=["failed", "failed-again", "gone", "not-modified"],
)
def test_an_answer_without_a_project_only_schedules_the_next_request(
    reply: PypiReply, failures: int, next_check: datetime, error: str | None
) -> None:
    decided = decide_pass([answer(reply, failures=failures)], {}, {}, {}, now=AT, interval=HOUR)

    [check] = decided.checks
    assert (check.next_check_at, check.error, check.project, check.etag) == (
        next_check,
        error,
        None,
        None,
    )
    assert (decided.changes, decided.announcing) == ([], {})


@pytest.mark.parametrize(
    ("stored", "released"),
    [
        (None, []),  # never answered: the silent baseline
        (StoredProject(None, ()), []),  # only failures stored: still the baseline
        (StoredProject(project("1.0"), ("4.2", "5.0")), ["1.1"]),
        # the `pypi_url` now names another project: it starts afresh
        (StoredProject(replace(project("1.0"), name="django-flatblocks"), ()), []),
    ],
    ids=["first", "only-failures", "new-release", "another-project"],
)
def test_a_new_answer_is_compared_with_the_stored_one_of_the_same_project(
    stored: StoredProject | None, released: list[str]
) -> None:
    new = PypiReply(project("1.1", "1.0"), etag="e1")
    stored_projects = {PID: stored} if stored else {}

    decided = decide_pass(
        [answer(new)], stored_projects, {PID: {}}, {PID: "Flat Blocks"}, now=AT, interval=HOUR
    )

    [check] = decided.checks
    assert (check.next_check_at, check.etag, check.project) == (AT + HOUR, "e1", new.project)
    assert check.declared == ("4.2", "5.0")
    assert [c.data["new"] for c in decided.changes] == released
    assert decided.announcing == {PID: released}
    assert all(c.summary.startswith("Flat Blocks 1.1") for c in decided.changes)


@pytest.mark.parametrize(
    ("change", "announced"),
    [
        (django_packages_release("1.0", "1.1"), {PID: ["1.1"]}),
        (django_packages_release("1.1", "1.0"), {}),  # a move back announces nothing
        (yanked_change(PID, "flatblocks", "1.1", None, "1.0", of_latest=True), {}),
    ],
    ids=["new", "move-back", "yank"],
)
def test_the_releases_django_packages_announced_are_remembered(
    change: Change, announced: dict[int, list[str]]
) -> None:
    assert announced_releases([change]) == announced


def test_after_an_answer_without_the_release_set_only_newer_releases_are_news() -> None:
    """PyPI may leave `releases` out (it is deprecated): the next full answer's older
    releases are not new, nor is an old yank, so nothing is announced as a backport."""
    without_set = replace(project("2.0"), releases=None)
    full = project("2.1", "1.8", "1.9", "2.0", yanked={"1.8": "Broken"})

    decision = compare(PID, "flatblocks", without_set, ("4.2", "5.0"), full, {"1.8", "2.0"})

    assert events(decision.changes) == [
        (Event.RELEASE, "flatblocks 2.1 released (minor release, was 2.0)")
    ]
    assert decision.announced == ["2.1"]
