"""Digest schedules and messages, and the daily-cap summary line (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.delivery.digest import digest_messages, holds, last_digest_time
from bot.messages.alerts import SiteLinks, cap_summary
from bot.messages.limits import check_message
from storage.channels import ChannelPreferences
from storage.models import Alert, DigestMode
from storage.outbox import Hold

FRIDAY_NOON = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
LINKS = SiteLinks("https://site.test/", {265: "django-flatblocks"})


def prefs(mode: str, hour: int = 9, weekday: int = 0, channel_id: int = 1) -> ChannelPreferences:
    return ChannelPreferences(channel_id, DigestMode(mode), hour, weekday)


@pytest.mark.parametrize(
    ("preferences", "expected"),
    [
        (prefs("immediate"), None),
        (prefs("daily", hour=9), datetime(2026, 2, 20, 9, tzinfo=UTC)),
        (prefs("daily", hour=12), datetime(2026, 2, 20, 12, tzinfo=UTC)),
        (prefs("daily", hour=13), datetime(2026, 2, 19, 13, tzinfo=UTC)),
        (prefs("weekly", hour=9, weekday=4), datetime(2026, 2, 20, 9, tzinfo=UTC)),
        (prefs("weekly", hour=13, weekday=4), datetime(2026, 2, 13, 13, tzinfo=UTC)),
        (prefs("weekly", hour=23, weekday=0), datetime(2026, 2, 16, 23, tzinfo=UTC)),
        (prefs("weekly", hour=0, weekday=6), datetime(2026, 2, 15, 0, tzinfo=UTC)),
    ],
)
def test_the_latest_digest_time_is_at_or_before_now(
    preferences: ChannelPreferences, expected: datetime | None
) -> None:
    assert last_digest_time(preferences, FRIDAY_NOON) == expected


def test_channels_with_the_same_digest_time_and_bypass_share_a_hold() -> None:
    channels = [
        prefs("daily", channel_id=1),
        prefs("daily", channel_id=2),
        prefs("daily", 10, 0, 3),
    ]

    assert sorted(holds(channels, FRIDAY_NOON), key=lambda h: h.since) == [
        Hold(datetime(2026, 2, 20, 9, tzinfo=UTC), (), frozenset({1, 2})),
        Hold(datetime(2026, 2, 20, 10, tzinfo=UTC), (), frozenset({3})),
    ]


def alert(event: str, summary: str, package_id: int = 265, **payload: str) -> Alert:
    return Alert(
        event=event, summary=summary, payload=payload, package_id=package_id, created_at=FRIDAY_NOON
    )


def test_a_package_that_outgrows_a_field_continues_under_its_header() -> None:
    alerts = [alert("release", f"django-flatblocks 1.{n} released " + "x" * 80) for n in range(30)]

    ((message, shown),) = digest_messages(alerts, DigestMode.DAILY, (), LINKS)

    fields = message["embeds"][0]["fields"]
    assert [f["name"] for f in fields[:2]] == ["django-flatblocks", "django-flatblocks (continued)"]
    assert all(f["value"].startswith("**release**\n• ") for f in fields)
    assert shown == alerts
    assert "footer" not in message["embeds"][-1]


def test_grid_moves_are_grouped_under_the_grid_and_upstream_text_is_escaped() -> None:
    grid = {"grid_slug": "page-blocks", "grid_title": "Page *blocks*"}
    alerts = [
        alert("grid", "a joined", 1, direction="joined", **grid),
        alert("popularity", "@everyone reached 100 stars", 2),
        alert("grid", "b left", 3, direction="left", **grid),
    ]

    ((message, _),) = digest_messages(alerts, DigestMode.WEEKLY, (), LINKS)

    assert message["embeds"][0]["title"] == "Weekly digest: 3 alerts"
    assert [(f["name"], f["value"]) for f in message["embeds"][0]["fields"]] == [
        ("Grid: Page \\*blocks\\*", "**joined**\n• a joined\n**left**\n• b left"),
        ("package 2", "**popularity**\n• @\u200beveryone reached 100 stars"),
    ]
    assert message["allowed_mentions"] == {"parse": []}


def test_a_digest_spread_over_messages_numbers_them_and_each_fits() -> None:
    alerts = [alert("release", f"p{n} 1.0 released " + "y" * 250, n) for n in range(200)]

    messages = digest_messages(alerts, DigestMode.DAILY, [42], LINKS)

    assert len(messages) > 1
    assert [m["embeds"][-1]["footer"]["text"] for m, _ in messages] == [
        f"digest {n}/{len(messages)}" for n in range(1, len(messages) + 1)
    ]
    assert messages[0][0]["content"] == "<@&42>"
    assert all("content" not in m for m, _ in messages[1:])
    assert [a for _, shown in messages for a in shown] == alerts
    for message, _ in messages:
        check_message(message)


@pytest.mark.parametrize(
    ("events", "line"),
    [
        (["stale"], "…and 1 more alert today (1 stale) — daily cap 3; see /watch list"),
        (
            ["release", "popularity", "release"],
            "…and 3 more alerts today (2 release, 1 popularity) — daily cap 3; see /watch list",
        ),
    ],
)
def test_the_cap_summary_counts_the_overflow_by_event(events: list[str], line: str) -> None:
    assert cap_summary(events, 3) == {"content": line, "allowed_mentions": {"parse": []}}


def test_a_stale_report_in_a_digest_lists_its_packages_under_its_own_heading() -> None:
    report = Alert(
        event="stale-report",
        summary="Weekly stale report: 2 stale packages among the 4 followed here",
        payload={
            "packages": [{"slug": "django-flatblocks"}, {"slug": "django-queued-storage"}],
        },
        package_id=None,
        created_at=FRIDAY_NOON,
    )

    ((message, shown),) = digest_messages(
        [alert("release", "django-flatblocks 1.0.1 released"), report], DigestMode.DAILY, (), LINKS
    )

    fields = {f["name"]: f["value"] for e in message["embeds"] for f in e["fields"]}
    assert "package None" not in fields
    assert "django-flatblocks, django-queued-storage" in fields["Weekly stale report"]
    assert "1.0.1" in fields["django-flatblocks"]
    assert report in shown
