"""Digests: when a channel's alerts are gathered, and the message that gathers them.

A daily digest goes out at `digest_hour` (UTC) every day, a weekly one at that hour on
`digest_weekday`. An alert is held until the first digest time at or after its creation, unless
it matches the channel's `digest_bypass` (`bot.core.bypass`: event names, or releases of a level and
above). The digest groups alerts by package, or by the group the alert's kind names
(`bot.core.events`: a grid's joins and leaves under the grid, the weekly stale report on its
own), then by section; it is one message unless Discord's limits force more, which their
footers then number ("digest 1/2").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.events import DEFAULT_COLOUR, Fact, kind_of
from bot.core.events.base import one_line
from bot.core.plural import counted
from bot.messages.alerts import SiteLinks, mention_roles
from bot.messages.limits import (
    EMBED_TOTAL,
    EMBEDS_PER_MESSAGE,
    FIELD_NAME,
    FIELD_VALUE,
    FIELDS,
    Embed,
    Message,
    check_message,
    escape_text,
    truncate,
)
from storage.channels import ChannelPreferences
from storage.models import Alert, DigestMode
from storage.outbox import Hold

TITLES = {DigestMode.DAILY: "Daily digest", DigestMode.WEEKLY: "Weekly digest"}
#: Longest line an alert gets in a digest; its embed in immediate mode shows it all.
LINE = 300
#: Room kept in every message for its "digest i/n" footer.
FOOTER_ROOM = 20

CONTINUED = " (continued)"

#: Section label (an event, or joined/left for a grid) → its lines with their alerts.
Sections = dict[str, list[tuple[str, Alert]]]
#: Package or grid name → its sections.
Groups = dict[str, Sections]


def last_digest_time(preferences: ChannelPreferences, now: datetime) -> datetime | None:
    """The channel's latest digest time at or before `now`; None in immediate mode."""
    if preferences.digest_mode is DigestMode.IMMEDIATE:
        return None
    slot = now.replace(hour=preferences.digest_hour, minute=0, second=0, microsecond=0)
    period = timedelta(days=1)
    if preferences.digest_mode is DigestMode.WEEKLY:
        slot -= timedelta(days=(slot.weekday() - preferences.digest_weekday) % 7)
        period = timedelta(weeks=1)
    return slot if slot <= now else slot - period


def holds(digest_channels: Iterable[ChannelPreferences], now: datetime) -> list[Hold]:
    """What digest channels hold back at `now`, one `Hold` per distinct time and bypass list."""
    grouped: dict[tuple[datetime, tuple[str, ...]], set[int]] = defaultdict(set)
    for preferences in digest_channels:
        since = last_digest_time(preferences, now)
        if since is not None:
            grouped[since, preferences.digest_bypass].add(preferences.channel_id)
    return [Hold(since, bypass, frozenset(ids)) for (since, bypass), ids in grouped.items()]


def digest_messages(
    alerts: Sequence[Alert], mode: DigestMode, role_ids: Collection[int], links: SiteLinks
) -> list[tuple[Message, list[Alert]]]:
    """A destination's digest in as few messages as the limits allow, each with the alerts it
    shows (so a digest cut short by a failure resumes with the rest)."""
    title = f"{TITLES[mode]}: {counted(len(alerts), 'alert')}"
    fields = [
        field
        for name, sections in _group(alerts, links).items()
        for field in _fields(name, sections)
    ]
    packed = _pack(fields, EMBED_TOTAL - len(title) - FOOTER_ROOM)
    messages = [_message(title, embeds) for embeds in packed]
    if len(messages) > 1:
        for number, message in enumerate(messages, 1):
            message["embeds"][-1]["footer"] = {"text": f"digest {number}/{len(messages)}"}
    mention_roles(messages, role_ids)
    for message in messages:
        check_message(message)
    shown = [[a for embed in embeds for field in embed for a in field.alerts] for embeds in packed]
    return list(zip(messages, shown, strict=True))


@dataclass(frozen=True, slots=True)
class _Field:
    """A digest field and the alerts whose lines it holds."""

    fact: Fact
    alerts: list[Alert]


def _group(alerts: Iterable[Alert], links: SiteLinks) -> Groups:
    """Alert lines by package, or by the group their kind names (a grid, the stale report),
    and section, in order of appearance."""
    groups: Groups = defaultdict(lambda: defaultdict(list))
    for alert in alerts:
        group, section, text = kind_of(alert).digest(alert)
        if group is None:
            slug = links.package_slugs.get(alert.package_id) if alert.package_id else None
            group = slug or f"package {alert.package_id}"
        line = truncate(f"• {escape_text(one_line(text))}", LINE)
        groups[truncate(escape_text(group), FIELD_NAME - len(CONTINUED))][section].append(
            (line, alert)
        )
    return groups


def _fields(name: str, sections: Sections) -> list[_Field]:
    """One field per package, continued in more when its lines outgrow a field value."""
    chunks = list(_values(sections))
    names = [name] + [f"{name}{CONTINUED}"] * (len(chunks) - 1)
    return [
        _Field(Fact(n, value, inline=False), alerts)
        for n, (value, alerts) in zip(names, chunks, strict=True)
    ]


def _values(sections: Sections) -> Iterator[tuple[str, list[Alert]]]:
    """Section headers and their lines cut into field values, each with its lines' alerts; a
    value starting in the middle of a section repeats its header."""
    value, current = "", ""
    alerts: list[Alert] = []
    for label, lines in sections.items():
        for line, alert in lines:
            piece = line if label == current and value else f"**{label}**\n{line}"
            if value and len(value) + 1 + len(piece) > FIELD_VALUE:
                yield value, alerts
                value, piece, alerts = "", f"**{label}**\n{line}", []
            value = f"{value}\n{piece}" if value else piece
            alerts.append(alert)
            current = label
    if value:
        yield value, alerts


def _pack(fields: Iterable[_Field], budget: int) -> list[list[list[_Field]]]:
    """Fields into messages of embeds: 25 fields an embed, 10 embeds and `budget` characters
    a message."""
    messages: list[list[list[_Field]]] = [[[]]]
    size = 0
    for field in fields:
        cost = len(field.fact.name) + len(field.fact.value)
        embeds = messages[-1]
        if size + cost > budget:
            messages.append([[]])
            size = 0
        elif len(embeds[-1]) == FIELDS:
            if len(embeds) == EMBEDS_PER_MESSAGE:
                messages.append([[]])
                size = 0
            else:
                embeds.append([])
        messages[-1][-1].append(field)
        size += cost
    return messages


def _message(title: str, embeds: Sequence[list[_Field]]) -> Message:
    shaped: list[Embed] = [
        {"color": DEFAULT_COLOUR, "fields": [field.fact._asdict() for field in fields]}
        for fields in embeds
    ]
    shaped[0]["title"] = title
    return {"embeds": shaped, "allowed_mentions": {"parse": []}}
