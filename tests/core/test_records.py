"""Parsing and normalising Django Packages payloads into records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.records import (
    PackagePayload,
    link_id,
    normalise_pypi_url,
    parse_category,
    parse_grid,
    parse_package,
    parse_timestamp,
)
from bot.errors import InvalidRecord
from tests.plugins.data import SEED_SLUGS, load_json, seed_package


@pytest.mark.parametrize("slug", SEED_SLUGS)
def test_every_seed_parses(slug: str) -> None:
    record = parse_package(seed_package(slug))

    assert record.slug == slug
    assert record.last_updated is not None
    assert record.last_updated.tzinfo is UTC
    assert len(record.commits_over_52) == 52


def test_flatblocks_fields_are_normalised(flatblocks_payload: dict[str, Any]) -> None:
    record = parse_package(flatblocks_payload)

    assert record.id == 265
    assert record.category_id == 1
    assert record.grid_ids == (48,)
    assert record.pypi_version == "1.0.0"
    assert record.pypi_url == "https://pypi.org/project/django-flatblocks/"
    assert record.documentation_url is None
    assert record.repo_watchers == 84
    assert record.repo_forks == 32
    assert record.last_updated == datetime(2022, 2, 15, 21, 47, 58, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "2026-02-15T19:07:25.175315-05:00",
            datetime(2026, 2, 16, 0, 7, 25, 175315, tzinfo=UTC),
            id="winter-offset-microseconds",
        ),
        pytest.param(
            "2026-05-06T16:18:05-04:00",
            datetime(2026, 5, 6, 20, 18, 5, tzinfo=UTC),
            id="summer-offset-no-microseconds",
        ),
        pytest.param(
            "2024-06-01T07:50:28", datetime(2024, 6, 1, 11, 50, 28, tzinfo=UTC), id="naive-new-york"
        ),
        pytest.param(
            "2024-01-10T07:50:28", datetime(2024, 1, 10, 12, 50, 28, tzinfo=UTC), id="naive-winter"
        ),
        pytest.param("2024-01-10T12:00:00Z", datetime(2024, 1, 10, 12, tzinfo=UTC), id="zulu"),
        pytest.param(None, None, id="null"),
        pytest.param("", None, id="empty"),
    ],
)
def test_timestamps_become_utc(text: str | None, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://pypi.python.org/pypi/django-flatblocks", "django-flatblocks"),
        ("https://pypi.python.org/pypi/django-flatblocks/", "django-flatblocks"),
        ("https://pypi.org/project/django-valkey", "django-valkey"),
        ("https://pypi.org/project/django-valkey/", "django-valkey"),
        ("https://pypi.org/project/django-valkey/0.4.1/", "django-valkey"),
        ("  https://PyPI.org/project/Django-Valkey  ", "Django-Valkey"),
    ],
)
def test_pypi_url_forms_normalise(raw: str, expected: str) -> None:
    assert normalise_pypi_url(raw) == f"https://pypi.org/project/{expected}/"


@pytest.mark.parametrize("raw", ["", "   ", None, "https://pypi.org/project/"])
def test_empty_pypi_url_is_none(raw: str | None) -> None:
    assert normalise_pypi_url(raw) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://djangopackages.org/api/v4/grids/87/",
        "https://djangopackages.org/api/v4/grids/87/?format=api",
        "http://127.0.0.1:8000/api/v4/grids/87/?format=json&x=1",
        "/api/v4/grids/87/",
    ],
)
def test_ids_come_from_links_whatever_the_query(url: str) -> None:
    assert link_id(url, "grids") == 87


def test_link_of_another_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a grids link"):
        link_id("https://djangopackages.org/api/v4/packages/87/", "grids")


def test_empty_commit_window_is_unknown_not_quiet() -> None:
    new_package = load_json("package-list.reconstructed.json")["results"][1]
    quiet = parse_package(seed_package("django-flatblocks"))
    unknown = parse_package(new_package)

    assert unknown.commits_over_52 == ()
    assert not unknown.commits_known
    assert quiet.commits_known
    assert sum(quiet.commits_over_52) == 0
    assert unknown.pypi_version is None
    assert unknown.last_fetched is None
    assert unknown.documentation_url is None


def test_bitbucket_edge_case_keeps_version_without_pypi_url() -> None:
    record = parse_package(load_json("package-detail-1444.capture-derived.json"))

    assert record.pypi_url is None
    assert record.pypi_version == "0.0.1"


@pytest.mark.parametrize(
    ("field", "value", "bad_field"),
    [
        pytest.param("repo_watchers", "lots", "repo_watchers", id="stars-not-int"),
        pytest.param("repo_watchers", -3, "repo_watchers", id="negative-stars"),
        pytest.param("commits_over_52", [1, 2, 3], "commits_over_52", id="short-window"),
        pytest.param("commits_over_52", "1,2,3", "commits_over_52", id="v3-style-string"),
        pytest.param("last_updated", "yesterday", "last_updated", id="bad-timestamp"),
        pytest.param("grids", ["https://example.com/nope/"], "grids", id="bad-grid-link"),
        pytest.param("slug", None, "slug", id="null-slug"),
        pytest.param("category", 12.5, "category", id="category-float"),
        pytest.param("repo_watchers", 2**40, "repo_watchers", id="count-beyond-our-columns"),
    ],
)
def test_invalid_payload_names_record_and_field(
    flatblocks_payload: dict[str, Any], field: str, value: object, bad_field: str
) -> None:
    flatblocks_payload[field] = value

    with pytest.raises(InvalidRecord) as caught:
        parse_package(flatblocks_payload)

    assert caught.value.record_id == 265
    assert caught.value.field == bad_field
    assert "265" in str(caught.value)


def test_missing_counts_are_unknown_not_zero(flatblocks_payload: dict[str, Any]) -> None:
    del flatblocks_payload["repo_watchers"]
    del flatblocks_payload["commits_over_52"]

    record = parse_package(flatblocks_payload)

    assert record.repo_watchers is None
    assert record.commits_over_52 == ()


def test_non_object_payload_is_invalid() -> None:
    with pytest.raises(InvalidRecord, match="id=None"):
        parse_package(["not", "a", "record"])


def test_content_hash_ignores_bookkeeping_fields(flatblocks_payload: dict[str, Any]) -> None:
    before = parse_package(flatblocks_payload)
    refreshed = dict(flatblocks_payload, last_fetched="2026-03-01T01:00:00-05:00")
    bumped = dict(flatblocks_payload, pypi_version="1.0.1")

    assert parse_package(refreshed).content_hash() == before.content_hash()
    assert parse_package(bumped).content_hash() != before.content_hash()


def test_a_payload_fingerprint_ignores_bookkeeping_and_key_order(
    flatblocks_payload: dict[str, Any],
) -> None:
    seen = PackagePayload.of(flatblocks_payload)
    refreshed = dict(
        flatblocks_payload, last_fetched="2026-03-01T01:00:00-05:00", modified="2026-03-01"
    )
    reordered = dict(reversed(flatblocks_payload.items()))
    bumped = dict(flatblocks_payload, pypi_version="1.0.1")
    gapped = {k: v for k, v in flatblocks_payload.items() if k != "repo_watchers"}

    assert seen.id == 265
    assert PackagePayload.of(refreshed).fingerprint == seen.fingerprint
    assert PackagePayload.of(reordered).fingerprint == seen.fingerprint
    assert PackagePayload.of(bumped).fingerprint != seen.fingerprint
    assert PackagePayload.of(gapped).fingerprint != seen.fingerprint
    assert seen.parse() == parse_package(flatblocks_payload)


@pytest.mark.parametrize("bad_id", [None, "265", True, 0, 2**31, 2**70])
def test_a_payload_without_a_usable_id_is_refused_at_once(
    flatblocks_payload: dict[str, Any], bad_id: object
) -> None:
    flatblocks_payload["id"] = bad_id

    with pytest.raises(InvalidRecord) as caught:
        PackagePayload.of(flatblocks_payload)

    assert caught.value.field == "id"


def test_a_payload_json_cannot_carry_is_fingerprinted_as_unknown(
    flatblocks_payload: dict[str, Any],
) -> None:
    flatblocks_payload["repo_watchers"] = 2**70  # orjson writes 64 bits at most

    payload = PackagePayload.of(flatblocks_payload)

    assert payload.fingerprint is None  # validated every time, and refused there
    with pytest.raises(InvalidRecord, match="repo_watchers"):
        payload.parse()


def test_record_round_trips_through_json(flatblocks_payload: dict[str, Any]) -> None:
    record = parse_package(flatblocks_payload)

    assert parse_package(record.model_dump(mode="json")) == record


def test_grid_members_keep_order_and_parse_links() -> None:
    grid = parse_grid(load_json("grid-detail.reconstructed.json"))

    assert grid.slug == "healt-checkers"
    assert grid.package_ids == (5810, 976, 3142, 5811, 5754, 2225)


def test_categories_parse() -> None:
    categories = [
        parse_category(c) for c in load_json("category-list.reconstructed.json")["results"]
    ]

    assert {c.slug for c in categories} == {"apps", "frameworks", "other"}
