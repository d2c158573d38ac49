"""The Discord side's wording helpers: digest-bypass lists and the pages of a grid table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app.grid_table import GridTable, rank_members
from bot.app.readiness import ReadinessBoard, ReadinessRow
from bot.core.bypass import describe as describe_bypass
from bot.core.records import parse_package
from bot.discordbot.options import BadOption, parse_bypass
from bot.discordbot.tables import ROWS_PER_PAGE, grid_pages, readiness_pages
from bot.messages.alerts import SiteLinks
from bot.messages.limits import check_message
from bot.refresh.staleness import ChannelStaleness
from tests.plugins.data import seed_package

NOW = datetime(2026, 2, 20, 12, tzinfo=UTC)
LINKS = SiteLinks("https://site.test/")


def test_a_bypass_list_is_event_names_or_release_levels() -> None:
    entries = parse_bypass("Stale, release:major release:minor,stale")

    assert entries == ("stale", "release:major", "release:minor")
    assert parse_bypass("release:patch, release:pre") == ("release:patch", "release:pre")
    assert describe_bypass(entries) == "stale alerts, major releases, minor releases and above"
    assert parse_bypass("none") == ()


@pytest.mark.parametrize("text", ["releases", "release:huge", "stale:major", "release:"])
def test_a_bad_bypass_entry_says_what_is_allowed(text: str) -> None:
    with pytest.raises(BadOption, match=rf"Unknown digest bypass '{text}': use event names"):
        parse_bypass(text)


def test_a_bad_bypass_entry_is_explained_with_every_form_allowed() -> None:
    with pytest.raises(BadOption) as raised:
        parse_bypass("stale, release:huge")

    assert str(raised.value) == (
        "Unknown digest bypass 'release:huge': use event names (release, activity, stale, "
        "popularity, grid, repo, removed, advisory, compat, yanked), release:major, release:minor "
        "or release:patch (that level and above), release:pre, or none."
    )


def table(count: int) -> GridTable:
    """A grid of `count` packages with the longest names and versions upstream allows."""
    records = [
        parse_package(
            seed_package("django-flatblocks")
            | {
                "id": n + 1,
                "slug": f"package-{n}-" + "s" * 88,  # up to the 100 characters a slug may have
                "title": f"*{n}* " + "t" * 200,
                "pypi_version": "1.0.0.dev" + "9" * 50,
            }
        )
        for n in range(count)
    ]
    rows = rank_members(records, now=NOW, staleness=ChannelStaleness(365))
    return GridTable("big", "Big [grid]", "stars", tuple(rows))


def test_every_page_of_a_big_grid_fits_one_embed() -> None:
    pages = grid_pages(table(100), LINKS)

    assert len(pages) >= 100 // ROWS_PER_PAGE
    assert [p.footer.text for p in pages][:2] == [
        f"Page 1/{len(pages)} · 100 packages, most stars first · big",
        f"Page 2/{len(pages)} · 100 packages, most stars first · big",
    ]
    ranks = [line.split(".")[0] for p in pages for line in (p.description or "").splitlines()]
    assert ranks == [str(rank) for rank in range(1, 101)]
    for page in pages:
        check_message({"embeds": [page.to_dict()]})


def test_a_grid_that_fits_one_page_has_no_page_counter() -> None:
    [page] = grid_pages(table(3), LINKS)

    assert page.footer.text == "3 packages, most stars first · big"
    assert page.title == r"Big \[grid\]"
    assert page.url == "https://site.test/grids/g/big/"


def test_a_grid_of_one_package_says_so_in_the_singular() -> None:
    [page] = grid_pages(table(1), LINKS)

    assert page.footer.text == "1 package, most stars first · big"


def test_a_readiness_board_shows_a_grids_upstream_title_literally() -> None:
    row = ReadinessRow("django-flatblocks", "Flatblocks", "ready", ("5.2",))
    board = ReadinessBoard("5.2", None, (row,), "in the **@everyone** grid")

    [page] = readiness_pages(board)

    assert page.title == (
        "Django 5.2: 1 ready, 0 no, 0 unknown "
        "(of 1 package in the \\*\\*@\u200beveryone\\*\\* grid)"
    )
