"""`compat`: the Django versions the latest final release declares moved.

Only `Framework :: Django :: X.Y` classifiers count. A release that declares none (or only
`Framework :: Django`) says nothing: it is "unknown", never "dropped", and the next release
that declares some is compared with the last one that did. Pre-releases never count as
support. The PyPI pass (`bot.refresh.pypi_compare`) raises these changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.events.base import Card, Change, Data, Event, EventKind, Fact, Markup
from bot.core.pypi import django_version_order


def _listed(versions: Sequence[str]) -> str:
    return ", ".join(f"Django {v}" for v in versions)


def compat_change(
    package_id: int,
    name: str,
    version: str,
    declared_before: Sequence[str],
    declared_now: Sequence[str],
) -> Change | None:
    """The change when `version` declares other Django versions than the last declaring one."""
    if not declared_before or not declared_now:
        return None
    added = sorted(set(declared_now) - set(declared_before), key=django_version_order)
    dropped = sorted(set(declared_before) - set(declared_now), key=django_version_order)
    if not added and not dropped:
        return None
    parts = [f"now declares {_listed(added)}"] if added else []
    parts += [f"no longer declares {_listed(dropped)}"] if dropped else []
    return Change(
        event=Event.COMPAT,
        package_id=package_id,
        key=f"{package_id}:compat:{version}:+{','.join(added)}-{','.join(dropped)}",
        summary=f"{name} {version} {' and '.join(parts)}",
        data={
            "version": version,
            "added": added,
            "dropped": dropped,
            "declared": list(declared_now),
        },
    )


def card(data: Data, markup: Markup) -> Card:
    facts = [Fact("Release", markup.text(data.get("version")))]
    if data.get("added"):
        facts.append(Fact("Now declares", markup.text(", ".join(data["added"]))))
    if data.get("dropped"):
        facts.append(Fact("No longer declares", markup.text(", ".join(data["dropped"]))))
    facts.append(
        Fact("Declares", markup.text(", ".join(data.get("declared") or []) or None), False)
    )
    return Card(facts)


KIND = EventKind(Event.COMPAT, colour=0x1ABC9C, card=card)
