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
from urllib.parse import urlsplit

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
BUTTON_URL = 512
ELLIPSIS = "…"

Embed = dict[str, Any]
Message = dict[str, Any]

_MARKDOWN = re.compile(r"([\\*_~`|\[\]])|^([#>-])", re.MULTILINE)
_MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#)(\d+)>")
#: Other `<…>` syntax Discord renders: timestamps, command mentions, custom emoji, guide links.
_ANGLE_SYNTAX = re.compile(r"<(?=t:|/|a?:\w|id:)")
#: A URL's scheme, which Discord turns into a live link in the bot's own voice.
_URL_SCHEME = re.compile(r"(?i)\b(https?|ftp|steam|discord):(?=//)")
#: Invite hosts Discord links (and previews) even without a scheme.
_INVITE = re.compile(r"(?i)\b(discord(?:app)?)(?=\.(?:gg|com/invite|me)/)")
_ZWSP = "\u200b"


class LimitExceeded(ValueError):
    """A payload breaks one of Discord's limits; Discord would answer 400."""


def escape_text(text: str) -> str:
    """Neutralise markdown, mentions, links and invites in upstream text, so it shows literally.

    `AllowedMentions.none()` already stops pings; breaking the syntax as well keeps
    `@everyone` from even rendering as a mention where a manager allowed a role ping. Bare
    URLs and invites would be live links (and invite previews) in the bot's own voice, and
    `<t:…>`, `</cmd:id>` and `<:emoji:id>` would render; a zero-width space breaks each.
    """
    escaped = _MARKDOWN.sub(lambda m: "\\" + m.group(0), text)
    escaped = _MENTION.sub(_defuse_mention, escaped)
    escaped = _ANGLE_SYNTAX.sub("<" + _ZWSP, escaped)
    escaped = _URL_SCHEME.sub(lambda m: m.group(1) + ":" + _ZWSP, escaped)
    return _INVITE.sub(lambda m: m.group(1) + _ZWSP, escaped)


def link_url(url: str | None) -> str | None:
    """`url` if Discord takes it as a link button's or an embed's URL, else None: http(s),
    a host, no whitespace or control characters, at most 512 characters. Upstream URLs are
    free text; one Discord refuses fails the whole message with a 400."""
    if not url or len(url) > BUTTON_URL or any(c.isspace() or not c.isprintable() for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    return url


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
