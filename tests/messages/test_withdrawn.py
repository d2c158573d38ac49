"""An advisory's posted embed marked withdrawn in place: only that embed, within the limits."""

from __future__ import annotations

from typing import Any

from bot.messages.limits import EMBED_TOTAL, FIELD_VALUE, TITLE, check_message, embed_size
from bot.messages.withdrawn import WITHDRAWN_COLOUR, mark_withdrawn

ADVISORY = "django-flatblocks: HIGH security advisory GHSA-x: latest release 3.2 is affected"


def embed(title: str, **parts: Any) -> dict[str, Any]:
    """An embed as Discord returns it: with its own `type` beside what was sent."""
    return {"type": "rich", "title": title, "color": 0xC0392B, **parts}


def test_only_the_advisory_embed_is_struck_greyed_and_dated() -> None:
    release = embed("django-flatblocks 3.3 released")
    advisory = embed(ADVISORY, fields=[{"name": "Severity", "value": "HIGH", "inline": True}])

    marked = mark_withdrawn([release, advisory], ADVISORY, "2026-12-01")

    assert marked is not None
    assert marked[0] == {k: v for k, v in release.items() if k != "type"}
    assert marked[1]["title"] == f"~~{ADVISORY}~~"
    assert marked[1]["color"] == WITHDRAWN_COLOUR
    assert marked[1]["description"].startswith("**Withdrawn on 2026-12-01**")
    assert marked[1]["fields"] == advisory["fields"]


def test_marking_twice_changes_nothing() -> None:
    once = mark_withdrawn([embed(ADVISORY)], ADVISORY, "2026-12-01")
    assert once is not None

    assert mark_withdrawn(once, ADVISORY, "2026-12-02") == once


def test_a_digest_that_holds_the_advisory_as_a_line_is_not_rewritten() -> None:
    digest = embed("Daily digest: 3 alerts", fields=[{"name": "x", "value": ADVISORY}])

    assert mark_withdrawn([digest], ADVISORY, "2026-12-01") is None


def test_a_full_message_stays_within_discords_limits() -> None:
    longest = "t" * TITLE
    facts = [{"name": f"fact {i}", "value": "v" * FIELD_VALUE} for i in range(5)]
    advisory = embed(longest, fields=facts)
    neighbour = embed("other", description="d" * (EMBED_TOTAL - embed_size(advisory) - 10))
    check_message({"embeds": [neighbour, advisory]})  # a message Discord took, 10 from full

    marked = mark_withdrawn([neighbour, advisory], longest, "2026-12-01")

    assert marked is not None
    check_message({"embeds": marked})
    assert len(marked[1]["fields"]) == 4  # the last fact gave way to the note
    assert len(marked[1]["title"]) == TITLE
    assert sum(map(embed_size, marked)) <= EMBED_TOTAL
