"""Commit-activity charts as small PNG images (Pillow): a package's 52 weekly commit counts as
bars, and a grid's members side by side as heat strips.

Drawn on their own dark card, so they read the same on Discord's dark and light themes, with
a palette image (a few KB). Weeks are dated from the moment Django Packages computed the
counts: the last bar is the week ending then.

Every chart is mapped to one fixed palette (`_palette`): the chart's own colours, the
anti-aliased edges of its text against the background, and the heat strips' tones. A nearest-
colour lookup into it costs a twentieth of searching a palette per image (median cut), and
the colours come out exact.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Protocol

from PIL import Image, ImageDraw, ImageFont

from bot.core.plural import counted
from bot.core.sparkline import counted_recently
from bot.messages.cards import PackageSummary

WEEKS = 52
WIDTH, HEIGHT = 800, 280
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 20, 44, 40
#: A commit chart's line between the title and the bars, for the last commit's label or note,
#: so neither is ever drawn over a bar.
LABEL_LANE = 16

BACKGROUND = (30, 31, 34)
GRIDLINE = (64, 66, 73)
TEXT = (219, 222, 225)
MUTED = (148, 155, 164)
BAR = (46, 204, 113)
QUIET = (78, 80, 88)
MARKER = (241, 196, 15)

#: A grid chart shows at most this many members, one strip each.
GRID_ROWS = 15
ROW_HEIGHT, LABEL_WIDTH = 22, 230
#: A heat strip's tones between a quiet week and the busiest (one palette entry each).
SHADE_STEPS = 32
#: The tones of a text edge between the background and the text colour (anti-aliasing).
EDGE_STEPS = 8
#: zlib level of the PNG: about as small as 9 (`optimize`) for a quarter of its time.
PNG_COMPRESS_LEVEL = 7


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def week_ends(counted_at: datetime) -> list[datetime]:
    """The day each of the `WEEKS` weekly counts ends, oldest first; the last is `counted_at`."""
    return [counted_at - timedelta(weeks=WEEKS - 1 - index) for index in range(WEEKS)]


def _png(image: Image.Image) -> bytes:
    """`image` as a palette PNG: each pixel becomes its nearest colour in `_palette` (no
    dithering, so flat areas stay flat)."""
    buffer = io.BytesIO()
    paletted = image.quantize(palette=_palette(), dither=Image.Dither.NONE)
    paletted.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def palette_colours() -> list[tuple[int, int, int]]:
    """Every colour a chart may hold: its own, the edges of its text (drawn on the background
    only) and the heat strips' tones. A colour left out would be drawn as its nearest one."""
    colours = [BACKGROUND, GRIDLINE, TEXT, MUTED, BAR, QUIET, MARKER]
    for ink in (TEXT, MUTED, MARKER):
        colours += [_mix(BACKGROUND, ink, step / EDGE_STEPS) for step in range(1, EDGE_STEPS)]
    colours += [_shade(step / SHADE_STEPS) for step in range(SHADE_STEPS + 1)]
    return list(dict.fromkeys(colours))


@cache
def _palette() -> Image.Image:
    palette = Image.new("P", (1, 1))
    palette.putpalette([channel for colour in palette_colours() for channel in colour])
    return palette


def _mix(
    start: tuple[int, int, int], end: tuple[int, int, int], share: float
) -> tuple[int, int, int]:
    """The colour `share` of the way from `start` to `end`."""
    red, green, blue = (round(a + (b - a) * share) for a, b in zip(start, end, strict=True))
    return red, green, blue


def _month_ticks(ends: Sequence[datetime]) -> list[tuple[int, str]]:
    """(week index, label) where a new month starts, "Mar", with the year on the first label
    and on January; a month starting within 3 weeks of the previous label is skipped."""
    ticks: list[tuple[int, str]] = []
    for index in range(1, len(ends)):
        month = ends[index]
        if month.month == ends[index - 1].month or (ticks and index - ticks[-1][0] < 3):
            continue
        ticks.append((index, f"{month:%b %Y}" if month.month == 1 or not ticks else f"{month:%b}"))
    return ticks


@dataclass(frozen=True, slots=True)
class _Plot:
    """Where the bars go: x of a week's slot and y of a count."""

    left: int
    top: int
    right: int
    bottom: int
    busiest: int

    @property
    def slot(self) -> float:
        return (self.right - self.left) / WEEKS

    def x(self, week: float) -> float:
        return self.left + week * self.slot

    def y(self, count: float) -> float:
        return self.bottom - (self.bottom - self.top) * count / self.busiest


#: Recently drawn package charts: a package in the news is asked about by many at once, and
#: its chart (a few KB) only changes with its record.
RECENT_CHARTS = 256


@lru_cache(maxsize=RECENT_CHARTS)
def commit_chart(
    counts: tuple[int, ...],
    counted_at: datetime,
    last_commit: datetime | None,
    title: str,
    now: datetime,
) -> bytes | None:
    """A bar chart of 52 weekly commit counts, or None without data (`[]` is unknown).

    The bars end at `counted_at`; unless that was within a day of `now`, the header names the
    last week's end ("in the 52 weeks to 27 Feb 2026"), so the chart never reads as the last
    52 weeks when it is not."""
    if len(counts) != WEEKS:
        return None
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    busiest = max(max(counts), 1)
    top = MARGIN_TOP + LABEL_LANE
    plot = _Plot(MARGIN_LEFT, top, WIDTH - MARGIN_RIGHT, HEIGHT - MARGIN_BOTTOM, busiest)
    total = sum(counts)
    draw.text((MARGIN_LEFT, 10), title, fill=TEXT, font=_font(16))
    window = chart_window(counted_at, now)
    summary = f"{counted(total, 'commit')} in {window}"
    draw.text((WIDTH - MARGIN_RIGHT, 12), summary, fill=MUTED, font=_font(13), anchor="ra")
    for value in {busiest, busiest // 2} - {0} if total else ():
        y = plot.y(value)
        draw.line((plot.left, y, plot.right, y), fill=GRIDLINE)
        draw.text((plot.left - 6, y), str(value), fill=MUTED, font=_font(11), anchor="rm")
    if not total:
        middle = ((plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2)
        draw.text(middle, f"no commits in {window}", fill=MUTED, font=_font(14), anchor="mm")
    draw.line((plot.left, plot.bottom, plot.right, plot.bottom), fill=GRIDLINE)
    for week, count in enumerate(counts):
        x0, x1 = plot.x(week) + 1.5, plot.x(week + 1) - 1.5
        if count:
            draw.rectangle((x0, plot.y(count), x1, plot.bottom - 1), fill=BAR)
        else:
            draw.rectangle((x0, plot.bottom - 2, x1, plot.bottom - 1), fill=QUIET)
    ends = week_ends(counted_at)
    for week, label in _month_ticks(ends):
        x = plot.x(week)
        draw.line((x, plot.bottom, x, plot.bottom + 4), fill=MUTED)
        draw.text((x, plot.bottom + 7), label, fill=MUTED, font=_font(11), anchor="ma")
    _mark_last_commit(draw, plot, ends, last_commit)
    return _png(image)


def chart_window(counted_at: datetime, now: datetime) -> str:
    """The weeks a commit chart shows: "the last 52 weeks" when counted within a day of `now`,
    else "the 52 weeks to 27 Feb 2026" (the day Django Packages counted them)."""
    if counted_recently(counted_at, now):
        return "the last 52 weeks"
    return f"the 52 weeks to {counted_at:%-d %b %Y}"


def _mark_last_commit(
    draw: ImageDraw.ImageDraw, plot: _Plot, ends: Sequence[datetime], last_commit: datetime | None
) -> None:
    """A dashed line at the last commit's week, or a note when it is older than the chart;
    the label or the note sits in the lane above the bars."""
    if last_commit is None:
        return
    label = f"last commit {last_commit:%Y-%m-%d}"
    first_start = ends[0] - timedelta(weeks=1)
    outside = (
        "before" if last_commit <= first_start else "after" if last_commit > ends[-1] else None
    )
    lane = plot.top - LABEL_LANE
    if outside:  # the counts and the date disagree on the window: say so, mark nothing
        note = f"{label}, {outside} these 52 weeks"
        draw.text((plot.left, lane), note, fill=MARKER, font=_font(12))
        return
    week = min(WEEKS - 1, max(0, (last_commit - first_start) // timedelta(weeks=1)))
    x = plot.x(week + 0.5)
    for y in range(lane, plot.bottom, 8):
        draw.line((x, y, x, min(y + 4, plot.bottom)), fill=MARKER, width=2)
    anchor = "ra" if x > (plot.left + plot.right) / 2 else "la"
    offset = -6 if anchor == "ra" else 6
    draw.text((x + offset, lane), label, fill=MARKER, font=_font(12), anchor=anchor)


class Strip(Protocol):
    """One grid member's row: its name and weekly counts (() when unknown)."""

    @property
    def slug(self) -> str: ...
    @property
    def commits(self) -> Sequence[int]: ...


def grid_chart(title: str, strips: Sequence[Strip], counted_at: datetime) -> bytes | None:
    """One heat strip of 52 weeks per member, in the order given (brighter = more commits that
    week), so members' activity compares at a glance; None when no member has commit data."""
    rows = [strip for strip in strips if len(strip.commits) == WEEKS][:GRID_ROWS]
    if not rows:
        return None
    height = MARGIN_TOP + ROW_HEIGHT * len(rows) + MARGIN_BOTTOM
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((12, 10), title, fill=TEXT, font=_font(16))
    busiest = max(max(max(row.commits) for row in rows), 1)
    left, right = LABEL_WIDTH, WIDTH - MARGIN_RIGHT
    slot = (right - left) / WEEKS
    for index, row in enumerate(rows):
        top = MARGIN_TOP + index * ROW_HEIGHT
        name = row.slug if len(row.slug) <= 30 else row.slug[:29] + "…"
        draw.text((left - 8, top + ROW_HEIGHT / 2), name, fill=TEXT, font=_font(12), anchor="rm")
        for week, count in enumerate(row.commits):
            x0 = left + week * slot
            colour = _shade(count / busiest) if count else QUIET
            draw.rectangle((x0 + 1, top + 3, x0 + slot - 1, top + ROW_HEIGHT - 3), fill=colour)
    bottom = MARGIN_TOP + ROW_HEIGHT * len(rows)
    for week, label in _month_ticks(week_ends(counted_at)):
        x = left + week * slot
        draw.text((x, bottom + 6), label, fill=MUTED, font=_font(11), anchor="ma")
    return _png(image)


def _shade(share: float) -> tuple[int, int, int]:
    """From a dim green (a commit or two) to the full bar green (the busiest week), in
    `SHADE_STEPS` tones (each one is in the palette)."""
    low = (28, 94, 58)
    step = round(share * SHADE_STEPS) / SHADE_STEPS
    return _mix(low, BAR, 0.25 + 0.75 * step)


def package_chart(summary: PackageSummary) -> bytes | None:
    """`/package`'s and `djp-sentinel package --chart`'s image of a package's activity."""
    record = summary.record
    return commit_chart(
        record.commits_over_52,
        record.last_fetched or summary.observed_at,
        summary.health.last_commit,
        f"{record.title}: commits per week",
        summary.observed_at,
    )
