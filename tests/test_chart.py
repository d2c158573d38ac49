"""Commit charts: real PNGs, small, dated, and nothing drawn for unknown data."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from bot.messages.chart import WEEKS, _month_ticks, commit_chart, grid_chart, week_ends

COUNTED = datetime(2026, 11, 20, tzinfo=UTC)


def test_a_commit_chart_is_a_small_png() -> None:
    png = commit_chart([1, 0, 5] * 17 + [2], COUNTED, datetime(2026, 11, 3, tzinfo=UTC), "x")

    assert png is not None
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (800, 280))
    assert len(png) < 100_000


def test_unknown_commit_data_draws_nothing() -> None:
    assert commit_chart([], COUNTED, None, "x") is None
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
    inside = commit_chart(counts, COUNTED, datetime(2026, 11, 18, tzinfo=UTC), "x")
    after = commit_chart(counts, COUNTED, datetime(2026, 11, 25, tzinfo=UTC), "x")
    before = commit_chart(counts, COUNTED, datetime(2022, 2, 15, tzinfo=UTC), "x")

    charts = {inside, after, before}
    assert None not in charts
    assert len(charts) == 3  # a marker, or one of two notes
