"""`stale-report`: a channel's weekly list of the stale packages it follows.

Not a change but a list, raised on schedule by `bot.refresh.stale_report`: it never pings the
role of the subscription it is routed through, on its own or in a digest. It belongs to the
`stale` event, so a `stale` digest-bypass entry lets it through too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from bot.core.events.base import (
    Card,
    Data,
    DigestLine,
    Event,
    EventKind,
    Markup,
    OutboxAlert,
    health_data,
)
from bot.core.events.stale import COLOUR
from bot.core.health import Health
from bot.core.plural import counted
from bot.core.records import PackageRecord

#: Where the report goes in a digest: its packages by slug (`/stale` has the reasons).
DIGEST_GROUP = "Weekly stale report"


class Report(NamedTuple):
    """A channel's report: `key` identifies its week (prefix the channel id to deduplicate)."""

    key: str
    summary: str
    data: dict[str, Any]


def weekly_report(
    week: str,
    stale_after_days: int,
    rows: Sequence[tuple[PackageRecord, Health]],
    checked: int,
) -> Report:
    """The report of ISO `week` listing `rows` (stale under `stale_after_days`) among the
    `checked` packages a channel follows."""
    listed: list[dict[str, Any]] = [
        {"id": record.id, "slug": record.slug, "title": record.title, **health_data(health)}
        for record, health in rows
    ]
    count = counted(len(rows), "stale package")
    return Report(
        key=f"stale-report:{week}",
        summary=f"Weekly stale report: {count} among the {checked} followed here",
        data={
            "week": week,
            "stale_after_days": stale_after_days,
            "checked": checked,
            "packages": listed,
        },
    )


def card(data: Data, markup: Markup) -> Card:
    return Card(
        lines=[
            markup.stale_line(package["slug"], package.get("title"), package.get("reasons") or ())
            for package in data.get("packages") or ()
        ],
        footer=f"Stale after {counted(data['stale_after_days'], 'day')} without a commit · "
        f"week {data.get('week')}",
    )


def digest(alert: OutboxAlert) -> DigestLine:
    slugs = ", ".join(package["slug"] for package in alert.payload.get("packages") or ())
    return DigestLine(DIGEST_GROUP, Event.STALE.value, f"{alert.summary}: {slugs}")


KIND = EventKind(
    Event.STALE,
    name="stale-report",
    colour=COLOUR,
    card=card,
    digest=digest,
    pings=False,
)
