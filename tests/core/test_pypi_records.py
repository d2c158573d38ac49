"""PyPI's JSON API and endoflife.date answers, read from the real captures."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.endoflife import find_cycle, newest_cycle, parse_cycles
from bot.core.pypi import (
    django_versions,
    parse_project,
    project_from_json,
    project_to_json,
    readiness,
)
from bot.errors import InvalidRecord

UPSTREAMS = Path(__file__).resolve().parent.parent / "data" / "upstreams"


def capture(relative: str) -> Any:
    return json.loads((UPSTREAMS / relative).read_text())


def test_a_project_reads_its_latest_release_facts() -> None:
    project = parse_project(capture("pypi/djangorestframework.json"))

    assert (project.name, project.version, project.final) == (
        "djangorestframework",
        "3.13.1",
        True,
    )
    assert project.django_versions == ("2.2", "3.0", "3.1", "3.2", "4.0")
    assert project.requires_python == ">=3.6"
    assert project.released == datetime(2021, 12, 15, 15, 18, 42, 237445, tzinfo=UTC)
    assert (project.yanked, project.yanked_reason) == (False, None)


def test_a_release_whose_files_are_all_yanked_is_yanked_with_pypi_s_reason() -> None:
    project = parse_project(capture("pypi/asgiref.json"))

    assert project.releases is not None
    yanked = project.releases["3.7.0"]
    assert (yanked.yanked, yanked.yanked_reason) == (
        True,
        "Broken dependencies that cause installation issues",
    )
    assert not project.releases["3.7.1"].yanked
    assert project.django_versions == ()  # asgiref declares no Django version


def test_a_release_without_files_is_known_without_an_upload_time() -> None:
    project = parse_project(capture("pypi/djangorestframework.json"))

    assert project.releases is not None
    assert project.releases["2.4.7"].uploaded is None


def test_only_x_y_django_classifiers_count_and_sort_as_versions() -> None:
    classifiers = [
        "Framework :: Django :: 4.10",
        "Framework :: Django",
        "Framework :: Django :: 4.2",
        "Framework :: Django CMS :: 3.11",
        "Framework :: Django :: 5",
        42,
    ]
    assert django_versions(classifiers) == ("4.2", "4.10")


def test_a_payload_without_releases_keeps_the_latest_only() -> None:
    payload = capture("pypi/nango.json")
    del payload["releases"]

    project = parse_project(payload)

    assert project.releases is None
    assert project.version == "0.1.2"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("info",), None),
        (("info", "version"), ""),
        (("info", "name"), 12),
        (("releases",), ["3.13.1"]),
        (("urls",), {"not": "a list"}),
    ],
)
def test_a_garbled_answer_is_invalid_never_half_used(path: tuple[str, ...], value: Any) -> None:
    payload = copy.deepcopy(capture("pypi/django-crispy-forms.json"))
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    with pytest.raises(InvalidRecord):
        parse_project(payload)


def test_a_stored_project_reads_back_the_same() -> None:
    project = parse_project(capture("pypi/asgiref.json"))

    assert project_from_json(json.loads(json.dumps(project_to_json(project)))) == project


@pytest.mark.parametrize(
    ("django", "expected"), [("4.0", "ready"), ("4.1", "no"), ("2.2", "ready")]
)
def test_readiness_follows_the_declared_versions(django: str, expected: str) -> None:
    assert readiness(parse_project(capture("pypi/djangorestframework.json")), django) == expected


def test_readiness_is_unknown_without_declarations_or_data() -> None:
    assert readiness(parse_project(capture("pypi/nango.json")), "4.0") == "unknown"
    assert readiness(None, "4.0") == "unknown"


def test_endoflife_cycles_read_newest_first_with_their_dates() -> None:
    cycles = parse_cycles(capture("endoflife/django.json"))

    assert [c.cycle for c in cycles][:3] == ["6.1", "6.0", "5.2"]
    lts = find_cycle(cycles, "4.2")
    assert lts is not None
    assert lts.describe() == "Django 4.2 LTS: released 2023-04-03, security support ends 2026-04-07"
    assert (lts.support_ends, lts.security_ends) == (date(2023, 12, 4), date(2026, 4, 7))
    newest = newest_cycle(cycles, date(2026, 1, 1))
    assert newest is not None
    assert newest.cycle == "6.0"  # 6.1 came out in August 2026


def test_endoflife_skips_unreadable_cycles_and_refuses_what_is_no_list() -> None:
    cycles = parse_cycles([{"cycle": "5.2", "eol": True}, {"cycle": "latest"}, "x"])

    assert [(c.cycle, c.security_ends) for c in cycles] == [("5.2", None)]
    with pytest.raises(InvalidRecord):
        parse_cycles({"cycle": "5.2"})
    with pytest.raises(InvalidRecord):
        parse_cycles([{"cycle": 5.2}])
