"""The one card: what a message shows of something, independent of where it is shown.

An alert kind builds one for its embed (`bot.core.events`), and `bot.messages.cards` builds one
for a package; `bot.messages.alerts`, the Discord adapter and the CLI render them. A card's text
is in the form its renderer expects: a kind writes through a `Markup` (so its text is markdown in
which upstream text is already escaped), while a package card holds plain upstream text that its
adapter escapes for the medium.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple


class Fact(NamedTuple):
    """One named value, shown as an embed field or a row of a terminal panel."""

    name: str
    value: str
    inline: bool = True


@dataclass(frozen=True, slots=True)
class Link:
    """A link shown as a button (Discord) or a labelled row (terminal)."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Card:
    """`facts` shown as fields, or `lines` listed instead (a report), and a `footer`.

    An alert's card needs no more: its title is the alert's summary. A package card also has
    its `title`, `url`, `description`, `links` and the `health` state its colour follows.
    """

    facts: Sequence[Fact] = ()
    lines: Sequence[str] | None = None
    footer: str = ""
    title: str = ""
    url: str | None = None
    description: str = ""
    links: Sequence[Link] = ()
    health: str = ""
