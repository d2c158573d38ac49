"""`yanked`: a release was pulled from PyPI.

Raised for a release that was announced (or is the latest) when PyPI marks it yanked, with
PyPI's reason. When Django Packages' `pypi_version` then moves back from the yanked release,
the release alert is replaced by this one (`bot.refresh.pypi_compare.explain_rollbacks`), so
the move is explained, never announced as a release. Every follower hears of a yank of the
latest release; a yank of an older one reaches only the channels its release alert reached
(`bot.refresh.audience.hears`).
"""

from __future__ import annotations

from bot.core.events.base import Card, Change, Data, Event, EventKind, Fact, Markup, one_line


def yanked_change(
    package_id: int,
    name: str,
    version: str,
    reason: str | None,
    latest: str | None,
    *,
    of_latest: bool,
) -> Change:
    """The change for `version` yanked; `latest` is the release that is now latest, and
    `of_latest` says whether `version` was the latest (news to every follower)."""
    because = f": {one_line(reason)}" if reason and reason.strip() else " (no reason given)"
    return Change(
        event=Event.YANKED,
        package_id=package_id,
        key=f"{package_id}:yanked:{version}",
        summary=f"{name} {version} was yanked from PyPI{because}",
        data={"version": version, "reason": reason, "latest": latest, "of_latest": of_latest},
    )


def card(data: Data, markup: Markup) -> Card:
    facts = [Fact("Yanked", markup.text(data.get("version")))]
    if data.get("latest"):
        facts.append(Fact("Latest is now", markup.text(data["latest"])))
    facts.append(Fact("Reason", markup.text(data.get("reason")), False))
    return Card(facts)


KIND = EventKind(Event.YANKED, colour=0xE67E22, card=card)
