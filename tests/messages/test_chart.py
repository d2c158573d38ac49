"""Commit charts: real PNGs, small, dated, in their own colours, labels clear of the bars, and
nothing drawn for unknown data."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image, ImageChops, ImageDraw

from bot.messages.chart import (
    BACKGROUND,
    BAR,
    GRIDLINE,
    HEIGHT,
    LABEL_LANE,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    MARKER,
    MUTED,
    QUIET,
    TEXT,
    WEEKS,
    WIDTH,
    _month_ticks,
    _png,
    _shade,
    chart_window,
    commit_chart,
    grid_chart,
    week_ends,
)

COUNTED = datetime(2026, 11, 20, tzinfo=UTC)
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Member:
    slug: str
    commits: Sequence[int]


def test_a_commit_chart_is_a_small_png() -> None:
    png = commit_chart(
        (1, 0, 5) * 17 + (2,), COUNTED, datetime(2026, 11, 3, tzinfo=UTC), "x", COUNTED
    )

    assert png is not None
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (800, 280))
    assert len(png) < 100_000


def test_unknown_commit_data_draws_nothing() -> None:
    assert commit_chart((), COUNTED, None, "x", COUNTED) is None
    assert grid_chart("g", [], COUNTED) is None


def test_weeks_end_at_the_moment_they_were_counted() -> None:
    ends = week_ends(COUNTED)
    assert (len(ends), ends[-1]) == (WEEKS, COUNTED)
    assert ends[0] == datetime(2025, 11, 28, tzinfo=UTC)


def test_the_axis_names_months_with_the_year_at_its_start_and_in_january() -> None:
    labels = [label for _, label in _month_ticks(week_ends(COUNTED))]
    assert labels[:2] == ["Dec 2025", "Jan 2026"]
    assert labels[-1] == "Nov"
    assert len(labels) == 12


def test_a_last_commit_outside_the_counted_weeks_is_noted_not_marked() -> None:
    counts = [0] * 51 + [1]
    inside = commit_chart(tuple(counts), COUNTED, datetime(2026, 11, 18, tzinfo=UTC), "x", COUNTED)
    after = commit_chart(tuple(counts), COUNTED, datetime(2026, 11, 25, tzinfo=UTC), "x", COUNTED)
    before = commit_chart(tuple(counts), COUNTED, datetime(2022, 2, 15, tzinfo=UTC), "x", COUNTED)

    charts = {inside, after, before}
    assert None not in charts
    assert len(charts) == 3  # a marker, or one of two notes


def colours_of(png: bytes, box: tuple[int, int, int, int] | None = None) -> set[RGB]:
    """The colours of a decoded chart (or of the part of it in `box`)."""
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
    if box is not None:
        rgb = rgb.crop(box)
    found = rgb.getcolors(maxcolors=WIDTH * HEIGHT)
    assert found is not None
    return {colour for _, colour in found}  # type: ignore[misc]


def test_a_chart_keeps_its_colours_exactly() -> None:
    counts = [0, 3, 9] * 17 + [1]
    marked = commit_chart(tuple(counts), COUNTED, datetime(2026, 6, 3, tzinfo=UTC), "x", COUNTED)
    strips = [Member("busy", [9, 0, 1, 4] * 13), Member("quiet", [0] * 51 + [1])]
    grid = grid_chart("g", strips, COUNTED)

    assert marked is not None
    assert grid is not None
    assert {BACKGROUND, GRIDLINE, TEXT, MUTED, BAR, QUIET, MARKER} <= colours_of(marked)
    assert {BACKGROUND, TEXT, MUTED, BAR, QUIET, _shade(1 / 9)} <= colours_of(grid)


def test_the_palette_keeps_text_edges_and_greens_close_to_what_was_drawn() -> None:
    drawn = Image.new("RGB", (WIDTH, 120), BACKGROUND)
    draw = ImageDraw.Draw(drawn)
    for row, ink in enumerate((TEXT, MUTED, MARKER)):
        draw.text((10, 10 + 22 * row), "last commit 2026-06-03, Jan 2026 @ 0123456789", fill=ink)
    for step in range(100):
        draw.rectangle((10 + 7 * step, 80, 15 + 7 * step, 90), fill=_shade(step / 99))
    for index, colour in enumerate((BAR, GRIDLINE, QUIET)):
        draw.rectangle((10 + 30 * index, 100, 30 + 30 * index, 110), fill=colour)

    with Image.open(io.BytesIO(_png(drawn))) as image:
        shown = image.convert("RGB")

    # Each text edge becomes its nearest step between the background and the text colour.
    assert max(ImageChops.difference(drawn, shown).tobytes()) <= 20


@pytest.mark.parametrize(
    ("last_commit", "marked"),
    [
        (datetime(2026, 6, 3, tzinfo=UTC), True),  # the label on the left of the line
        (datetime(2026, 11, 18, tzinfo=UTC), True),  # on its right
        (datetime(2022, 2, 15, tzinfo=UTC), False),  # a note: before the weeks
        (datetime(2026, 11, 25, tzinfo=UTC), False),  # a note: after them
    ],
)
def test_the_last_commit_label_or_note_is_never_drawn_over_the_bars(
    last_commit: datetime, marked: bool
) -> None:
    png = commit_chart((5,) * WEEKS, COUNTED, last_commit, "x", COUNTED)  # every bar at full height
    assert png is not None
    plot = (MARGIN_LEFT, MARGIN_TOP + LABEL_LANE, WIDTH - MARGIN_RIGHT, HEIGHT - MARGIN_BOTTOM)

    assert MARKER in colours_of(png)  # the label or the note is drawn, above the bars
    # Bars and gridlines only (and the dashed line): no text, so no anti-aliased edge.
    assert colours_of(png, plot) == {BACKGROUND, GRIDLINE, BAR} | ({MARKER} if marked else set())
    if marked:
        with Image.open(io.BytesIO(png)) as image:
            bars = image.convert("RGB").crop(plot)
        columns = {x for x in range(bars.width) if bars.getpixel((x, bars.height // 2)) == MARKER}
        assert len(columns) <= 3  # the line, not a label


def test_a_chart_counted_long_ago_names_the_day_its_weeks_end() -> None:
    assert chart_window(COUNTED, COUNTED + timedelta(hours=3)) == "the last 52 weeks"
    assert chart_window(COUNTED, COUNTED + timedelta(days=283)) == "the 52 weeks to 20 Nov 2026"
