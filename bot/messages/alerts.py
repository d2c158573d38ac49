"""Outbox alerts as Discord messages: one embed per alert, packed into as few messages as fit.

The embed title is the change's summary (worded once, by its event module); its kind
(`bot.core.events`) gives the colour and the card: facts as fields, or a list in the
description (the weekly stale report). Every piece of upstream text is escaped, and only a role
a manager configured can ever be mentioned, never for a kind that does not ping.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from urllib.parse import quote

from bot.core.events import Event, OutboxAlert, kind_of
from bot.core.plural import counted
from bot.core.shortcodes import render_shortcodes
from bot.messages.cards import grid_page, package_page
from bot.messages.limits import (
    DESCRIPTION,
    ELLIPSIS,
    TITLE,
    Embed,
    Message,
    check_message,
    escape_text,
    link_url,
    pack_embeds,
    truncate,
)

MISSING = "—"
#: Characters that could end a link early or start markdown in a listed URL.
_MARKDOWN_IN_URL = re.compile(r"[<>()\[\]`|*~\\]")
ACTION_ROW, BUTTON, LINK_STYLE = 1, 2, 5
#: Discord's limits: action rows per message, characters per button label.
MAX_ROWS, BUTTON_LABEL = 5, 80
#: Characters of a package title shown in a list, and of the reasons after it.
LISTED_TITLE = 80
LISTED_REASONS = 300

Component = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PackageUrls:
    """Where a release alert's buttons lead: PyPI (the project page), repository, docs."""

    pypi: str | None = None
    repository: str | None = None
    docs: str | None = None


@dataclass(frozen=True, slots=True)
class SiteLinks:
    """Where alerts link to: Django Packages (the site root and the packages' slugs) and, for
    release alerts, the packages' own pages."""

    site_url: str
    package_slugs: Mapping[int, str] = field(default_factory=dict)
    package_urls: Mapping[int, PackageUrls] = field(default_factory=dict)

    def package(self, package_id: int | None) -> str | None:
        slug = self.package_slugs.get(package_id) if package_id is not None else None
        return self.package_url(slug) if slug else None

    def package_url(self, slug: str) -> str:
        return package_page(self.site_url, slug)

    def grid(self, slug: str) -> str:
        return grid_page(self.site_url, slug)


def _text(value: object) -> str:
    """Upstream text made literal (emoji shortcodes rendered), or a dash when there is none."""
    return escape_text(render_shortcodes(str(value))) if value not in (None, "") else MISSING


@dataclass(frozen=True, slots=True)
class _Markdown:
    """How event kinds write upstream text into a card (`bot.core.events.Markup`): escaped,
    linking to Django Packages."""

    links: SiteLinks

    def text(self, value: object) -> str:
        return _text(value)

    def bullets(self, items: Iterable[str]) -> str:
        return "\n".join(f"• {escape_text(item)}" for item in items)

    def urls(self, items: Iterable[str]) -> str:
        return "\n".join(f"• {live_url(item) or escape_text(item)}" for item in items)

    def grid(self, slug: str | None, title: str | None) -> str:
        shown = _text(title or slug)
        return f"[{shown}]({self.links.grid(slug)})" if slug else shown

    def stale_line(self, slug: str, title: str | None, reasons: Iterable[str]) -> str:
        return stale_line(slug, title, reasons, self.links)


def live_url(url: str) -> str | None:
    """`url` as Discord shows a link, if it may be one: a URL Discord accepts (`link_url`)
    with nothing markdown could read (an upstream URL linking is a choice, never an accident)."""
    checked = link_url(url)
    return checked if checked and not _MARKDOWN_IN_URL.search(checked) else None


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


def alert_title(alert: OutboxAlert) -> str:
    """The title of an alert's embed, as posted: its summary, escaped, within the limit."""
    return truncate(escape_text(render_shortcodes(alert.summary)), TITLE)


def alert_embed(alert: OutboxAlert, links: SiteLinks) -> Embed:
    """The embed of one alert, as its kind shows it, linking to the package's page on Django
    Packages."""
    kind = kind_of(alert)
    card = kind.card(alert.payload, _Markdown(links))
    embed: Embed = {
        "title": alert_title(alert),
        "color": kind.colour,
        "timestamp": alert.created_at.isoformat(),
    }
    if card.lines is None:
        embed["fields"] = [fact._asdict() for fact in card.facts]
    else:
        embed["description"] = listing(card.lines)
    if card.footer:
        embed["footer"] = {"text": card.footer}
    url = links.package(alert.package_id)
    if url:
        embed["url"] = url
    return embed


def build_messages(
    alerts: Sequence[OutboxAlert], role_id: int | None, links: SiteLinks
) -> list[Message]:
    """A channel's alerts as the fewest messages Discord's limits allow, in order.

    Each message holds the embeds of the next `len(message["embeds"])` alerts. With a role, the
    first message announcing news (a kind that pings, unlike a stale report) mentions it and
    nothing else can ping; without one, nothing can.
    """
    messages = [_message(embeds) for embeds in pack_embeds(alert_embed(a, links) for a in alerts)]
    _add_release_buttons(messages, alerts, links)
    if role_id is not None:
        mention_roles(_first_news(messages, alerts), [role_id])
    for message in messages:
        check_message(message)
    return messages


def release_buttons(alert: OutboxAlert, links: SiteLinks, *, named: bool) -> list[Component]:
    """Link buttons a release alert offers: the release on PyPI, the repository, the docs
    (those known); `named` puts the package's slug in the labels (several in one message)."""
    urls = links.package_urls.get(alert.package_id or 0)
    version = alert.payload.get("new")
    if alert.event != Event.RELEASE or urls is None:
        return []
    prefix = f"{links.package_slugs.get(alert.package_id or 0, '')}: " if named else ""
    candidates = [
        (
            f"PyPI {version}",
            f"{urls.pypi}{quote(str(version))}/" if urls.pypi and version else None,
        ),
        ("Repository", urls.repository),
        ("Docs", urls.docs),
    ]
    return [
        {
            "type": BUTTON,
            "style": LINK_STYLE,
            "label": truncate(prefix + label, BUTTON_LABEL),
            "url": url,
        }
        for label, candidate in candidates
        if (url := link_url(candidate))
    ]


def _add_release_buttons(
    messages: Sequence[Message], alerts: Sequence[OutboxAlert], links: SiteLinks
) -> None:
    """One row of link buttons per release alert of a message (at most 5 rows)."""
    remaining = iter(alerts)
    for message in messages:
        shown = list(islice(remaining, len(message["embeds"])))
        releases = [alert for alert in shown if alert.event == Event.RELEASE]
        rows = [
            {"type": ACTION_ROW, "components": buttons}
            for alert in releases
            if (buttons := release_buttons(alert, links, named=len(releases) > 1))
        ]
        if rows:
            message["components"] = rows[:MAX_ROWS]


def _first_news(messages: Sequence[Message], alerts: Sequence[OutboxAlert]) -> list[Message]:
    """The first message holding an alert of a kind that pings (none if there is none)."""
    remaining = iter(alerts)
    for message in messages:
        shown = list(islice(remaining, len(message["embeds"])))
        if any(kind_of(alert).pings for alert in shown):
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
    more = counted(len(events), "more alert")
    content = f"…and {more} today ({counts}) — daily cap {cap}; see /watch list"
    message: Message = {"content": content, "allowed_mentions": {"parse": []}}
    check_message(message)
    return message


def _message(embeds: Iterable[Embed]) -> Message:
    return {"embeds": list(embeds), "allowed_mentions": {"parse": []}}
