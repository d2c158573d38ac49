"""Alerts as Discord messages: what each embed says, and how a channel's alerts are packed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.events import REGISTRY, Event
from bot.messages.alerts import SiteLinks, alert_embed, build_messages, live_url
from bot.messages.limits import check_message, embed_size
from storage.models import Alert

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
LINKS = SiteLinks("https://site.test/", {265: "django-flatblocks"})

HEALTH = {
    "previous_state": "active",
    "state": "slowing",
    "last_commit": "2025-11-02T09:00:00+00:00",
    "weeks_since_commit": 15,
    "reasons": ["no commits for 15 weeks"],
}
EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "release": (
        "django-flatblocks 1.0.1 released (patch release, was 1.0.0)",
        {"old": "1.0.0", "new": "1.0.1", "kind": "new", "level": "patch", "prerelease": False},
    ),
    "activity": ("django-flatblocks is slowing down: no commits for 15 weeks", HEALTH),
    "stale": (
        "django-flatblocks went stale: no commits in the last 52 weeks",
        {**HEALTH, "direction": "entered", "state": "stale"},
    ),
    "popularity": (
        "django-flatblocks reached 100 stars (now 104)",
        {"metric": "stars", "milestone": 100, "direction": "up", "old": 98, "new": 104},
    ),
    "grid": (
        "django-flatblocks joined the Page blocks grid",
        {"direction": "joined", "grid_slug": "page-blocks", "grid_title": "Page blocks"},
    ),
    "repo": (
        "django-flatblocks: repository changed to https://example.test/new",
        {"field": "repo_url", "old": "https://example.test/old", "new": "https://example.test/new"},
    ),
    "removed": ("django-flatblocks was removed from Django Packages", {"slug": "x"}),
    "advisory": (
        "django-flatblocks: HIGH security advisory GHSA-pghf-347x-c2gj: latest release 3.2 is "
        "affected, fixed in 3.2.1",
        {
            "package": "django-flatblocks",
            "key": "GHSA-pghf-347x-c2gj",
            "ids": ["GHSA-pghf-347x-c2gj", "PYSEC-2021-10", "CVE-2021-30459"],
            "status": "new",
            "summary": "SQL Injection via in django-debug-toolbar",
            "severity": "HIGH",
            "ranges": [">=3.0.0,<3.2.1"],
            "fixed": ["3.2.1"],
            "latest": "3.2",
            "affects_latest": True,
            "links": ["https://github.com/advisories/GHSA-pghf-347x-c2gj"],
            "pin": None,
        },
    ),
    "compat": (
        "django-flatblocks 1.1 now declares Django 5.2 and no longer declares Django 4.1",
        {"version": "1.1", "added": ["5.2"], "dropped": ["4.1"], "declared": ["4.2", "5.2"]},
    ),
    "yanked": (
        "django-flatblocks 1.0.1 was yanked from PyPI: Broken wheel",
        {"version": "1.0.1", "reason": "Broken wheel", "latest": "1.0.0"},
    ),
}


def alert(event: str = "release", summary: str | None = None, **payload: Any) -> Alert:
    example_summary, example_payload = EXAMPLES[event]
    return Alert(
        event=event,
        summary=summary or example_summary,
        payload={**example_payload, **payload},
        package_id=265,
        created_at=NOW,
    )


def facts(embed: dict[str, Any]) -> dict[str, str]:
    return {field["name"]: field["value"] for field in embed["fields"]}


def test_every_event_has_an_example_and_its_kind_a_colour_of_its_own() -> None:
    assert set(EXAMPLES) == set(Event) == {kind.event for kind in REGISTRY.values()}
    colours = [kind.colour for kind in REGISTRY.values() if kind.event is not Event.STALE]
    assert len(set(colours)) == len(colours)


@pytest.mark.parametrize("event", list(EXAMPLES))
def test_an_alert_is_one_titled_linked_timestamped_embed(event: str) -> None:
    embed = alert_embed(alert(event), LINKS)

    assert embed["title"] == EXAMPLES[event][0].replace("https:", "https:\u200b")  # no live link
    assert embed["url"] == "https://site.test/packages/p/django-flatblocks/"
    assert embed["color"] == REGISTRY[event].colour
    assert embed["timestamp"] == "2026-02-20T12:00:00+00:00"
    check_message({"embeds": [embed]})


def test_a_compat_change_shows_what_moved_and_what_is_declared() -> None:
    embed = alert_embed(alert("compat"), LINKS)
    assert facts(embed) == {
        "Release": "1.1",
        "Now declares": "5.2",
        "No longer declares": "4.1",
        "Declares": "4.2, 5.2",
    }


def test_a_yank_shows_the_reason_and_the_latest_release() -> None:
    embed = alert_embed(alert("yanked"), LINKS)
    assert facts(embed) == {"Yanked": "1.0.1", "Latest is now": "1.0.0", "Reason": "Broken wheel"}


def test_a_release_shows_the_versions_and_level() -> None:
    embed = alert_embed(alert("release", new="2.0b1", level="pre", prerelease=True), LINKS)
    assert facts(embed) == {"Version": "2.0b1", "Previous": "1.0.0", "Level": "pre-release"}


def test_a_health_change_shows_the_states_and_reasons() -> None:
    assert facts(alert_embed(alert("activity"), LINKS)) == {
        "State": "active → slowing",
        "Last commit": "2025-11-02",
        "Why": "• no commits for 15 weeks",
    }


def test_a_grid_change_links_to_the_grid_with_its_title_escaped() -> None:
    embed = alert_embed(alert("grid", grid_title="[Page](blocks) *"), LINKS)
    assert facts(embed)["Grid"] == (
        r"[\[Page\](blocks) \*](https://site.test/grids/g/page-blocks/)"
    )


def test_a_popularity_change_shows_the_counts() -> None:
    embed = alert_embed(alert("popularity", old=980, new=1210, milestone=1000), LINKS)
    assert facts(embed) == {"Stars": "980 → 1,210", "Milestone": "1,000"}


def test_a_package_not_stored_gets_no_link() -> None:
    assert "url" not in alert_embed(alert(), SiteLinks("https://site.test/"))


def test_an_unknown_event_still_renders() -> None:
    embed = alert_embed(Alert(event="future", summary="s", payload={}, created_at=NOW), LINKS)
    assert (embed["title"], embed["fields"]) == ("s", [])


def test_upstream_text_is_escaped_everywhere() -> None:
    embed = alert_embed(
        alert("repo", summary="@everyone <@1>", new="**@here**", old="<@&2>"), LINKS
    )
    shown = [embed["title"], *facts(embed).values()]
    for text in ("@everyone", "<@1>", "**", "@here", "<@&2>"):
        assert all(text not in part for part in shown), text


def test_alerts_are_packed_ten_embeds_to_a_message_in_order() -> None:
    alerts = [alert(summary=f"release {n}") for n in range(23)]

    messages = build_messages(alerts, None, LINKS)

    assert [len(m["embeds"]) for m in messages] == [10, 10, 3]
    titles = [e["title"] for m in messages for e in m["embeds"]]
    assert titles == [f"release {n}" for n in range(23)]
    assert all(m["allowed_mentions"] == {"parse": []} and "content" not in m for m in messages)


def test_big_alerts_take_more_messages_and_stay_within_limits() -> None:
    alerts = [alert("repo", summary="x" * 300, new="y" * 3000) for _ in range(6)]

    messages = build_messages(alerts, None, LINKS)

    assert len(messages) > 1
    assert sum(len(m["embeds"]) for m in messages) == 6
    for message in messages:
        check_message(message)
        assert sum(map(embed_size, message["embeds"])) <= 6000


def test_a_role_is_mentioned_once_and_is_all_that_can_ping() -> None:
    first, second = build_messages([alert() for _ in range(11)], 777, LINKS)

    assert first["content"] == "<@&777>"
    assert first["allowed_mentions"] == {"parse": [], "roles": ["777"]}
    assert "content" not in second
    assert second["allowed_mentions"] == {"parse": []}


def test_no_alerts_no_messages() -> None:
    assert build_messages([], 777, LINKS) == []


def report(count: int, title: str = "Package {n}") -> Alert:
    """A weekly stale report listing `count` packages."""
    listed = [
        {
            "id": n,
            "slug": f"package-{n}",
            "title": title.format(n=n),
            "state": "stale",
            "last_commit": "2022-02-15T21:47:58+00:00",
            "weeks_since_commit": 200,
            "reasons": [
                "no commits in the last 52 weeks",
                "quiet for longer than the 365-day threshold",
            ],
        }
        for n in range(count)
    ]
    return Alert(
        event="stale-report",
        summary=f"Weekly stale report: {count} stale packages among the {count} followed here",
        payload={
            "week": "2026-W08",
            "stale_after_days": 365,
            "checked": count,
            "packages": listed,
        },
        created_at=NOW,
    )


def test_a_stale_report_lists_its_packages_with_reasons() -> None:
    embed = alert_embed(report(2, title="[Pkg](evil) @everyone {n}"), LINKS)

    first, second = embed["description"].splitlines()
    title = "\\[Pkg\\](evil) @\u200beveryone"  # markdown escaped, mention defused
    assert first == (
        f"**[{title} 0](https://site.test/packages/p/package-0/)**: "
        "no commits in the last 52 weeks; quiet for longer than the 365-day threshold"
    )
    assert second.startswith(f"**[{title} 1](")
    assert "fields" not in embed
    assert embed["footer"]["text"] == "Stale after 365 days without a commit · week 2026-W08"
    check_message({"embeds": [embed]})


def test_a_long_stale_report_ends_with_how_many_more() -> None:
    embed = alert_embed(report(200, title="Package {n} " + "with a long name " * 5), LINKS)

    lines = embed["description"].splitlines()
    shown = len(lines) - 1
    assert 0 < shown < 200
    assert lines[-1] == f"…and {200 - shown} more"
    check_message({"embeds": [embed]})


def test_a_stale_report_never_pings_the_role() -> None:
    [alone] = build_messages([report(3)], 777, LINKS)
    first, second = build_messages([report(3)] * 10 + [alert()], 777, LINKS)

    assert "content" not in alone
    assert alone["allowed_mentions"] == {"parse": []}
    assert "content" not in first  # ten reports
    assert second["content"] == "<@&777>"  # the release after them


@pytest.mark.parametrize(
    ("url", "live"),
    [
        ("https://github.com/advisories/GHSA-pghf-347x-c2gj", True),
        ("https://nvd.nist.gov/vuln/detail/CVE-2021-30459", True),
        ("https://evil.example/x)[click](https://phish.example", False),
        ("https://docs .example/", False),
        ("javascript:alert(1)", False),
    ],
)
def test_an_upstream_url_is_listed_live_only_when_it_can_be_nothing_but_a_link(
    url: str, live: bool
) -> None:
    assert (live_url(url) == url) is live
