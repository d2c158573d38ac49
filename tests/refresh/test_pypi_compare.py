"""The decide step of the PyPI pass: what a new answer means, from stored answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.core.events import Change, Event
from bot.core.events.release import release_change
from bot.core.pypi import PypiProject, PypiRelease
from bot.refresh.pypi_compare import compare, explain_rollbacks

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


def test_a_yanked_release_is_never_announced_as_new_and_unknown_changes_nothing() -> None:
    pypi = project("1.0", "1.1", yanked={"1.1": None})
    move = django_packages_release("1.0", "1.1")

    assert explain_rollbacks([move], {PID: pypi}, {}) == []
    assert explain_rollbacks([move], {}, {}) == [move]
