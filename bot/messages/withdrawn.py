"""A posted advisory alert marked withdrawn in place: its embed struck through, greyed and
dated, so nobody acts on it (delivery edits the message with it, `bot.delivery.worker`).

The message is the one Discord returns for the posted alert, so only what an alert embed holds
is sent back; its other embeds (alerts posted in the same message) are kept as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.messages.limits import EMBED_TOTAL, TITLE, Embed, embed_size, fit_embed, truncate

#: Discord's grey: the card no longer looks like an advisory's red.
WITHDRAWN_COLOUR = 0x95A5A6
STRIKE = "~~"
#: The parts of an embed an alert sets; the rest of what Discord returns (`type`, proxy URLs,
#: sizes) is Discord's own and is not sent back.
_EMBED_PARTS = ("title", "description", "url", "timestamp", "color", "footer", "fields")


def struck(title: str) -> str:
    """A title struck through, within the title limit."""
    return f"{STRIKE}{truncate(title, TITLE - 2 * len(STRIKE))}{STRIKE}"


def withdrawn_note(on: str) -> str:
    return f"**Withdrawn on {on}**: the advisory was withdrawn upstream; nothing to act on."


def mark_withdrawn(embeds: Sequence[Mapping[str, Any]], title: str, on: str) -> list[Embed] | None:
    """`embeds` (a posted message's) with the one titled `title` marked withdrawn on `on` (a
    date): struck title, grey, and a dated note. An embed already marked stays as it is, so
    marking twice (a retry after a crash) changes nothing. None when no embed carries the
    title: the alert was a line of a digest, which is not rewritten."""
    kept = [{k: v for k, v in embed.items() if k in _EMBED_PARTS} for embed in embeds]
    titles = [embed.get("title") for embed in kept]
    if struck(title) in titles:
        return kept
    if title not in titles:
        return None
    index = titles.index(title)
    marked = kept[index] | {"title": struck(title), "color": WITHDRAWN_COLOUR}
    note = withdrawn_note(on)
    marked["description"] = f"{note}\n{marked['description']}" if "description" in marked else note
    marked = fit_embed(marked)
    others = sum(embed_size(embed) for i, embed in enumerate(kept) if i != index)
    while others + embed_size(marked) > EMBED_TOTAL and marked.get("fields"):
        marked["fields"].pop()  # the facts of a withdrawn advisory are the first to go
    kept[index] = marked
    return kept
