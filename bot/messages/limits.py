"""Discord's message limits, enforced in one place for every message the bot sends.

Messages are plain dicts in Discord's REST shape (`content`, `embeds`, ...), so the same checked
payload serves the discord.py sender, the webhook sender and the interaction responses. Upstream
text is escaped before it gets here; this module only makes things fit, and `check_message`
proves they do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

CONTENT = 2000
EMBEDS_PER_MESSAGE = 10
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000
AUTOCOMPLETE_CHOICES = 25
CHOICE_NAME = 100
ELLIPSIS = "…"

Embed = dict[str, Any]
Message = dict[str, Any]

_MARKDOWN = re.compile(r"([\\*_~`|\[\]])|^([#>-])", re.MULTILINE)
_MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#)(\d+)>")


class LimitExceeded(ValueError):
    """A payload breaks one of Discord's limits; Discord would answer 400."""


def escape_text(text: str) -> str:
    """Neutralise markdown and mentions in upstream text, so it shows literally.

    `AllowedMentions.none()` already stops pings; breaking the syntax as well keeps
    `@everyone` from even rendering as a mention where a manager allowed a role ping.
    """
    escaped = _MARKDOWN.sub(lambda m: "\\" + m.group(0), text)
    return _MENTION.sub(_defuse_mention, escaped)


def _defuse_mention(match: re.Match[str]) -> str:
    if match.group(1):
        return f"@\u200b{match.group(1)}"
    return f"<{match.group(2)}\u200b{match.group(3)}>"


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def embed_size(embed: Mapping[str, Any]) -> int:
    """Characters that count towards the 6,000 per message, as Discord counts them."""
    parts = [
        embed.get("title"),
        embed.get("description"),
        (embed.get("footer") or {}).get("text"),
        (embed.get("author") or {}).get("name"),
    ]
    for field in embed.get("fields") or ():
        parts += [field.get("name"), field.get("value")]
    return sum(len(part or "") for part in parts)


def fit_embed(embed: Mapping[str, Any]) -> Embed:
    """A copy of `embed` cut to every per-part limit and to the total."""
    fitted: Embed = dict(embed)
    if "title" in fitted:
        fitted["title"] = truncate(fitted["title"], TITLE)
    if "description" in fitted:
        fitted["description"] = truncate(fitted["description"], DESCRIPTION)
    if "footer" in fitted:
        fitted["footer"] = {**fitted["footer"], "text": truncate(fitted["footer"]["text"], FOOTER)}
    if "author" in fitted:
        fitted["author"] = {**fitted["author"], "name": truncate(fitted["author"]["name"], AUTHOR)}
    if "fields" in fitted:
        fitted["fields"] = [
            {
                **field,
                "name": truncate(field["name"], FIELD_NAME) or "\u200b",
                "value": truncate(field["value"], FIELD_VALUE) or "\u200b",
            }
            for field in fitted["fields"][:FIELDS]
        ]
    while embed_size(fitted) > EMBED_TOTAL and fitted.get("fields"):
        fitted["fields"].pop()
    overflow = embed_size(fitted) - EMBED_TOTAL
    if overflow > 0:
        keep = len(fitted["description"]) - overflow
        fitted["description"] = truncate(fitted["description"], keep) if keep > 1 else ""
    return fitted


def pack_embeds(embeds: Iterable[Embed]) -> list[list[Embed]]:
    """Group embeds into as few messages as the per-message limits allow, keeping order."""
    messages: list[list[Embed]] = []
    current: list[Embed] = []
    size = 0
    for embed in map(fit_embed, embeds):
        cost = embed_size(embed)
        if current and (len(current) == EMBEDS_PER_MESSAGE or size + cost > EMBED_TOTAL):
            messages.append(current)
            current, size = [], 0
        current.append(embed)
        size += cost
    if current:
        messages.append(current)
    return messages


def check_message(message: Mapping[str, Any]) -> None:
    """Raise `LimitExceeded` naming the first limit `message` breaks."""
    content = message.get("content") or ""
    embeds = message.get("embeds") or []
    if len(content) > CONTENT:
        raise LimitExceeded(f"content is {len(content)} characters (max {CONTENT})")
    if len(embeds) > EMBEDS_PER_MESSAGE:
        raise LimitExceeded(f"{len(embeds)} embeds (max {EMBEDS_PER_MESSAGE})")
    total = 0
    for embed in embeds:
        if embed != fit_embed(embed):
            raise LimitExceeded(f"embed {embed.get('title', '')!r} breaks a per-part limit")
        total += embed_size(embed)
    if total > EMBED_TOTAL:
        raise LimitExceeded(f"embeds total {total} characters (max {EMBED_TOTAL})")


def fit_message(message: Mapping[str, Any]) -> Message:
    """A copy of `message` made to fit (content cut, embeds fitted), then checked."""
    fitted: Message = dict(message)
    if fitted.get("content"):
        fitted["content"] = truncate(fitted["content"], CONTENT)
    if fitted.get("embeds"):
        embeds = [fit_embed(embed) for embed in fitted["embeds"][:EMBEDS_PER_MESSAGE]]
        while sum(map(embed_size, embeds)) > EMBED_TOTAL:
            embeds.pop()
        fitted["embeds"] = embeds
    check_message(fitted)
    return fitted
