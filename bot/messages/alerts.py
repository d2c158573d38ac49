"""Outbox alerts as Discord messages: one embed per alert, packed into as few messages as fit.

The embed title is the change's summary (worded once, by its event module); the fields show
the facts from its data. A weekly stale report (payload kind "report") lists its packages with
their reasons instead, and never pings anyone. Every piece of upstream text is escaped, and only
a role a manager configured can ever be mentioned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple, Protocol

from bot.core.events import Event
from bot.core.events.repo import FIELDS as REPO_FIELDS
from bot.messages.cards import grid_page, package_page
from bot.messages.limits import (
    DESCRIPTION,
    ELLIPSIS,
    Embed,
    Message,
    check_message,
    escape_text,
    pack_embeds,
    truncate,
)

MISSING = "—"
#: The payload kind of a weekly stale report (`bot.refresh.stale_report`).
REPORT = "report"
#: Characters of a package title shown in a list, and of the reasons after it.
LISTED_TITLE = 80
LISTED_REASONS = 300
DEFAULT_COLOUR = 0x95A5A6


class Alert(Protocol):
    """What a message reads of an outbox alert (`storage.models.Alert` has it)."""

    @property
    def event(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def package_id(self) -> int | None: ...
    @property
    def created_at(self) -> datetime: ...


COLOURS: Mapping[str, int] = {
    Event.RELEASE: 0x2ECC71,
    Event.ACTIVITY: 0x3498DB,
    Event.STALE: 0xE67E22,
    Event.POPULARITY: 0xF1C40F,
    Event.GRID: 0x9B59B6,
    Event.REPO: DEFAULT_COLOUR,
    Event.REMOVED: 0xE74C3C,
}


@dataclass(frozen=True, slots=True)
class SiteLinks:
    """Where alerts link to on Django Packages: the site root and the packages' slugs."""

    site_url: str
    package_slugs: Mapping[int, str] = field(default_factory=dict)

    def package(self, package_id: int | None) -> str | None:
        slug = self.package_slugs.get(package_id) if package_id is not None else None
        return self.package_url(slug) if slug else None

    def package_url(self, slug: str) -> str:
        return package_page(self.site_url, slug)

    def grid(self, slug: str) -> str:
        return grid_page(self.site_url, slug)


class Fact(NamedTuple):
    """One embed field; `value` is markdown in which upstream text is already escaped."""

    name: str
    value: str
    inline: bool = True


Data = Mapping[str, Any]
Facts = Callable[[Data, SiteLinks], list[Fact]]


def _text(value: object) -> str:
    """Upstream text made literal, or a dash when there is none."""
    return escape_text(str(value)) if value not in (None, "") else MISSING


def _release_facts(data: Data, links: SiteLinks) -> list[Fact]:
    facts = [Fact("Version", _text(data.get("new"))), Fact("Previous", _text(data.get("old")))]
    if data.get("kind") == "new":
        level = "pre-release" if data.get("prerelease") else data.get("level") or "unknown"
        facts.append(Fact("Level", level))
    if data.get("latest"):
        facts.append(Fact("Latest", _text(data["latest"])))
    return facts


def _health_facts(data: Data, links: SiteLinks) -> list[Fact]:
    last_commit = (data.get("last_commit") or "unknown")[:10]
    facts = [
        Fact("State", f"{data.get('previous_state', 'unknown')} → {data.get('state', 'unknown')}"),
        Fact("Last commit", last_commit),
    ]
    reasons = data.get("reasons") or []
    if reasons:
        facts.append(Fact("Why", "\n".join(f"• {escape_text(r)}" for r in reasons), False))
    return facts


def _popularity_facts(data: Data, links: SiteLinks) -> list[Fact]:
    return [
        Fact(str(data["metric"]).capitalize(), f"{data['old']:,} → {data['new']:,}"),
        Fact("Milestone", f"{data['milestone']:,}"),
    ]


def _grid_facts(data: Data, links: SiteLinks) -> list[Fact]:
    title = _text(data.get("grid_title") or data.get("grid_slug"))
    slug = data.get("grid_slug")
    return [Fact("Grid", f"[{title}]({links.grid(slug)})" if slug else title)]


def _no_facts(data: Data, links: SiteLinks) -> list[Fact]:
    return []


def _repo_facts(data: Data, links: SiteLinks) -> list[Fact]:
    name = data.get("field", "")
    return [
        Fact("Changed", REPO_FIELDS.get(name, name) or MISSING),
        Fact("Now", _text(data.get("new")), False),
        Fact("Before", _text(data.get("old")), False),
    ]


#: Per event, the facts its embed shows besides the summary.
FACTS: Mapping[str, Facts] = {
    Event.RELEASE: _release_facts,
    Event.ACTIVITY: _health_facts,
    Event.STALE: _health_facts,
    Event.POPULARITY: _popularity_facts,
    Event.GRID: _grid_facts,
    Event.REPO: _repo_facts,
    Event.REMOVED: _no_facts,
}


def package_link(slug: str, title: str | None, links: SiteLinks) -> str:
    """A package's title (escaped, shortened) linking to its page on Django Packages."""
    return f"[{escape_text(truncate(title or slug, LISTED_TITLE))}]({links.package_url(slug)})"


def stale_line(slug: str, title: str | None, reasons: Iterable[str], links: SiteLinks) -> str:
    """One stale package and why: "**[Title](page)**: no commits in 52 weeks; ..."."""
    why = truncate(escape_text("; ".join(reasons)), LISTED_REASONS) or MISSING
    return f"**{package_link(slug, title, links)}**: {why}"


def listing(lines: Sequence[str], limit: int = DESCRIPTION) -> str:
    """As many of `lines` as fit in `limit` characters, then "…and N more" for the rest."""
    room = limit - len(f"\n{ELLIPSIS}and {len(lines)} more")
    shown: list[str] = []
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > room:
            break
        shown.append(line)
    hidden = len(lines) - len(shown)
    return "\n".join([*shown, f"{ELLIPSIS}and {hidden} more"] if hidden else shown)


def is_report(alert: Alert) -> bool:
    """A weekly stale report: a list of packages for the channel, not news to ping about."""
    return alert.payload.get("kind") == REPORT


def _report_embed(alert: Alert, links: SiteLinks) -> Embed:
    data = alert.payload
    lines = [
        stale_line(package["slug"], package.get("title"), package.get("reasons") or (), links)
        for package in data.get("packages") or ()
    ]
    return {
        "title": escape_text(alert.summary),
        "description": listing(lines),
        "color": COLOURS[Event.STALE],
        "timestamp": alert.created_at.isoformat(),
        "footer": {
            "text": f"Stale after {data.get('stale_after_days')} days without a commit · "
            f"week {data.get('week')}"
        },
    }


def alert_embed(alert: Alert, links: SiteLinks) -> Embed:
    """The embed of one alert, linking to the package's page on Django Packages."""
    if is_report(alert):
        return _report_embed(alert, links)
    facts = FACTS.get(alert.event, _no_facts)(alert.payload, links)
    embed: Embed = {
        "title": escape_text(alert.summary),
        "color": COLOURS.get(alert.event, DEFAULT_COLOUR),
        "timestamp": alert.created_at.isoformat(),
        "fields": [fact._asdict() for fact in facts],
    }
    url = links.package(alert.package_id)
    if url:
        embed["url"] = url
    return embed


def build_messages(alerts: Sequence[Alert], role_id: int | None, links: SiteLinks) -> list[Message]:
    """A channel's alerts as the fewest messages Discord's limits allow, in order.

    Each message holds the embeds of the next `len(message["embeds"])` alerts. With a role, the
    first message announcing something else than a stale report mentions it and nothing else
    can ping; without one, nothing can.
    """
    messages = [_message(embeds) for embeds in pack_embeds(alert_embed(a, links) for a in alerts)]
    if role_id is not None:
        mention_roles(_first_news(messages, alerts), [role_id])
    for message in messages:
        check_message(message)
    return messages


def _first_news(messages: Sequence[Message], alerts: Sequence[Alert]) -> list[Message]:
    """The first message holding an alert that is not a stale report (none if all are)."""
    remaining = iter(alerts)
    for message in messages:
        shown = list(islice(remaining, len(message["embeds"])))
        if not all(map(is_report, shown)):
            return [message]
    return []


def mention_roles(messages: Sequence[Message], role_ids: Collection[int]) -> None:
    """Make the first message mention `role_ids`, and allow it to ping those roles only."""
    if messages and role_ids:
        roles = sorted(role_ids)
        messages[0] |= {
            "content": " ".join(f"<@&{role}>" for role in roles),
            "allowed_mentions": {"parse": [], "roles": [str(role) for role in roles]},
        }


def cap_summary(events: Sequence[str], cap: int) -> Message:
    """The one line standing for the alerts over a channel's daily cap, counted by event."""
    counts = ", ".join(f"{n} {event}" for event, n in Counter(events).most_common())
    more = f"{len(events)} more alert{'s' if len(events) != 1 else ''}"
    content = f"…and {more} today ({counts}) — daily cap {cap}; see /watch list"
    message: Message = {"content": content, "allowed_mentions": {"parse": []}}
    check_message(message)
    return message


def _message(embeds: Iterable[Embed]) -> Message:
    return {"embeds": list(embeds), "allowed_mentions": {"parse": []}}
