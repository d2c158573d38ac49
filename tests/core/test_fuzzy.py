"""Finding packages by what a person typed: typos, word order, popularity, updates."""

from __future__ import annotations

import tracemalloc

import pytest

from bot.core.fuzzy import SUGGESTION_CUTOFF, Entry, FuzzyIndex, rank
from tests.fakes.djp_data import seed_payloads, synthetic_catalog


@pytest.fixture(scope="module")
def catalog() -> FuzzyIndex:
    """6,000 generated packages plus the real ones from the seeds."""
    payloads = synthetic_catalog(6000) + seed_payloads()
    return FuzzyIndex(Entry(p["slug"], p["title"], p["repo_watchers"] or 0) for p in payloads)


def slugs(entries: list[Entry]) -> list[str]:
    return [entry.slug for entry in entries]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("flatblcoks", "django-flatblocks"),
        ("django-flatblcoks", "django-flatblocks"),
        ("rest registration", "django-rest-registration"),
        ("registraton", "django-rest-registration"),
        ("Debug Toolbar", "django-debug-toolbar"),
        ("flatb", "django-flatblocks"),
        ("cache machine", "django-cache-machine"),
    ],
)
def test_typos_and_loose_wording_find_the_package(
    catalog: FuzzyIndex, typed: str, meant: str
) -> None:
    assert slugs(catalog.search(typed, 25))[0] == meant


def test_an_exact_slug_comes_first_and_nothing_similar_is_offered_for_nonsense(
    catalog: FuzzyIndex,
) -> None:
    assert slugs(catalog.search("django-valkey", 5))[0] == "django-valkey"
    assert catalog.search("zzqxv", 25) == []
    assert catalog.search("qwertyuiop", 5, cutoff=SUGGESTION_CUTOFF) == []


def test_nothing_typed_offers_the_most_popular_first() -> None:
    index = FuzzyIndex([Entry("a", "A", 5), Entry("b", "B", 50), Entry("c", "C", 1)])
    assert slugs(index.search("", 2)) == ["b", "a"]


def test_equally_close_names_rank_by_popularity() -> None:
    index = FuzzyIndex([Entry("django-cache-a", "x", 3), Entry("django-cache-b", "y", 300)])
    assert slugs(index.search("cache", 5)) == ["django-cache-b", "django-cache-a"]


def test_updates_take_effect_at_once() -> None:
    index = FuzzyIndex([Entry("django-cache-a", "x", 3), Entry("django-cache-b", "y", 300)])
    index.search("cache", 5)
    index.upsert([Entry("django-cache-a", "x", 3000), Entry("django-flatblocks", "Flatblocks")])
    assert slugs(index.search("cache", 5)) == ["django-cache-a", "django-cache-b"]
    assert slugs(index.search("flatblcoks", 5)) == ["django-flatblocks"]
    assert len(index) == 3


def test_short_lists_rank_by_the_same_similarity() -> None:
    followed = [("django-rest-framework", "DRF"), ("django-flatblocks", "Flatblocks")]
    assert rank(followed, "flatblcoks", lambda pair: pair)[0] == followed[1]
    assert rank(followed, "", lambda pair: pair) == followed


#: Two-letter endings of 40 popular look-alikes: "orbit tb", "orbit sc", … (never "ta").
ENDINGS = [a + b for a in "tsa" for b in "bcdefghijklmnop"][:40]
#: The 40 look-alikes, and the package someone typing "orbit-ta" means, the least popular.
LOOK_ALIKES = [
    *(
        Entry(f"django-orbit-{e}", f"Django Orbit {e.upper()}", 1000 - n)
        for n, e in enumerate(ENDINGS)
    ),
    Entry("django-orbit-tasks", "Django Orbit Tasks", 1),
]


def test_a_name_holding_what_was_typed_outranks_every_look_alike() -> None:
    index = FuzzyIndex(LOOK_ALIKES)

    offered = slugs(index.search("orbit-ta", 25))

    assert len(LOOK_ALIKES) == 41
    assert offered[0] == "django-orbit-tasks"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("django-orbit-tb", ["django-orbit-tb"]),  # the exact slug
        ("bit-tas", ["django-orbit-tasks"]),  # a substring before any look-alike
    ],
)
def test_exact_then_prefix_then_substring_then_fuzzy(typed: str, expected: list[str]) -> None:
    offered = slugs(FuzzyIndex(LOOK_ALIKES).search(typed, 25))

    assert offered[: len(expected)] == expected


def test_every_name_starting_with_the_text_comes_before_those_only_containing_it() -> None:
    starting = {e.slug for e in LOOK_ALIKES if e.slug.startswith("django-orbit-t")}

    offered = slugs(FuzzyIndex(LOOK_ALIKES).search("orbit-t", 25))

    assert set(offered[: len(starting)]) == starting


def test_short_lists_put_a_containing_name_before_a_look_alike() -> None:
    watched = ["django-orbit-tb", "django-orbit-tc", "django-orbit-tasks"]

    assert rank(watched, "orbit-ta", lambda slug: (slug, slug))[0] == "django-orbit-tasks"


def test_what_people_type_is_never_kept() -> None:
    """Distinct long queries (a script's, or Discord's unbounded autocomplete text) leave no
    memory behind: 2,000 of them grew a cache of user text by about 23 MiB."""
    index = FuzzyIndex(Entry(f"django-widget-{n}", f"Django Widget {n}") for n in range(50))
    index.search("warm up", 25)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for number in range(2_000):
            index.search(f"{number} widget " + "x" * 6_000, 25)
            rank(["a", "b"], f"{number} " + "y" * 6_000, lambda item: (item, item))
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert after - before < 256 * 1024
