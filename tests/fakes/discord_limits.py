"""Discord's payload limits and mention rules, as pure functions over request bodies.

Each check returns `Problem`s; the fake turns them into Discord's 400 "Invalid Form Body"
answer (which discord.py flattens into `HTTPException.text`) and into recorded violations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.fakes.discord_models import Mentions

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_FIELDS_MAX = 25
EMBED_TEXT_LIMITS = {
    "title": 256,
    "description": 4096,
}
CHOICES_MAX = 25
CHOICE_TEXT_MAX = 100
ACTION_ROWS_MAX = 5
ROW_ITEMS_MAX = 5
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100
LINK_BUTTON = 5

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(?:everyone|here)")
WELL_FORMED_URL = re.compile(r"^(?:https?|attachment)://\S+$")


@dataclass(frozen=True)
class Problem:
    """One thing Discord would reject: a stable rule name, the field path and Discord's wording."""

    rule: str
    path: str
    message: str
    code: str = "BASE_TYPE_MAX_LENGTH"


def _too_long(rule: str, path: str, value: Any, limit: int) -> Iterator[Problem]:
    if isinstance(value, str | list) and len(value) > limit:
        yield Problem(rule, path, f"Must be {limit} or fewer in length.")


def _bad_url(rule: str, path: str, value: Any) -> Iterator[Problem]:
    if value is not None and not WELL_FORMED_URL.match(str(value)):
        yield Problem(rule, path, "Not a well formed URL.", "URL_TYPE_INVALID_URL")


def embed_length(embed: dict[str, Any]) -> int:
    """Characters counted towards the 6000 per message (same sum as discord.py's `len(embed)`)."""
    fields = embed.get("fields") or []
    return (
        len(embed.get("title") or "")
        + len(embed.get("description") or "")
        + sum(len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
        + len((embed.get("footer") or {}).get("text") or "")
        + len((embed.get("author") or {}).get("name") or "")
    )


def embed_problems(embed: dict[str, Any], path: str) -> Iterator[Problem]:
    for key, limit in EMBED_TEXT_LIMITS.items():
        yield from _too_long(f"embed.{key}", f"{path}.{key}", embed.get(key), limit)
    fields = embed.get("fields") or []
    yield from _too_long("embed.fields", f"{path}.fields", fields, EMBED_FIELDS_MAX)
    for index, fld in enumerate(fields):
        for key, limit in (("name", 256), ("value", 1024)):
            where = f"{path}.fields.{index}.{key}"
            if not fld.get(key):
                yield Problem(
                    f"embed.field.{key}", where, "This field is required", "BASE_TYPE_REQUIRED"
                )
            yield from _too_long(f"embed.field.{key}", where, fld.get(key), limit)
    footer, author = embed.get("footer") or {}, embed.get("author") or {}
    yield from _too_long("embed.footer", f"{path}.footer.text", footer.get("text"), 2048)
    yield from _too_long("embed.author", f"{path}.author.name", author.get("name"), 256)
    urls = {
        "url": embed.get("url"),
        "thumbnail.url": (embed.get("thumbnail") or {}).get("url"),
        "image.url": (embed.get("image") or {}).get("url"),
        "author.url": author.get("url"),
        "author.icon_url": author.get("icon_url"),
        "footer.icon_url": footer.get("icon_url"),
    }
    for key, url in urls.items():
        yield from _bad_url("embed.url", f"{path}.{key}", url)


def component_problems(rows: list[dict[str, Any]], path: str) -> Iterator[Problem]:
    """Limits of classic action rows (buttons and selects)."""
    yield from _too_long("components", path, rows, ACTION_ROWS_MAX)
    for r, row in enumerate(rows):
        items = row.get("components") or []
        yield from _too_long("components", f"{path}.{r}.components", items, ROW_ITEMS_MAX)
        for i, item in enumerate(items):
            where = f"{path}.{r}.components.{i}"
            yield from _too_long(
                "components.label", f"{where}.label", item.get("label"), BUTTON_LABEL_MAX
            )
            yield from _too_long(
                "components.custom_id", f"{where}.custom_id", item.get("custom_id"), CUSTOM_ID_MAX
            )
            if item.get("style") == LINK_BUTTON:
                yield from _bad_url("components.url", f"{where}.url", item.get("url") or "")


def allowed_mentions_problems(allowed: dict[str, Any] | None, path: str) -> Iterator[Problem]:
    if allowed is None:
        return
    parse = allowed.get("parse") or []
    for kind in ("users", "roles"):
        if kind in parse and allowed.get(kind):
            yield Problem(
                "allowed_mentions",
                f"{path}.{kind}",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
            )
        yield from _too_long("allowed_mentions", f"{path}.{kind}", allowed.get(kind), 100)


def message_problems(
    body: dict[str, Any], *, prefix: str = "", has_files: bool = False, partial: bool = False
) -> list[Problem]:
    """What Discord would reject in a message create (or, with `partial`, edit) body."""
    problems: list[Problem] = []
    content, embeds = body.get("content"), body.get("embeds") or []
    problems += _too_long("content", f"{prefix}content", content, CONTENT_MAX)
    problems += _too_long("embeds", f"{prefix}embeds", embeds, EMBEDS_MAX)
    for index, embed in enumerate(embeds):
        problems += embed_problems(embed, f"{prefix}embeds.{index}")
    if sum(embed_length(e) for e in embeds) > EMBED_TOTAL_MAX:
        problems.append(
            Problem(
                "embed.total",
                f"{prefix}embeds",
                f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
                "MAX_EMBED_SIZE_EXCEEDED",
            )
        )
    problems += component_problems(body.get("components") or [], f"{prefix}components")
    problems += allowed_mentions_problems(body.get("allowed_mentions"), f"{prefix}allowed_mentions")
    has_body = content or embeds or body.get("components") or body.get("sticker_ids")
    if not (partial or has_body or has_files or body.get("poll")):
        problems.append(
            Problem("message.empty", prefix.rstrip("."), "Cannot send an empty message")
        )
    return problems


def choice_problems(choices: list[dict[str, Any]]) -> list[Problem]:
    """What Discord would reject in an autocomplete result (callback type 8)."""
    problems = list(_too_long("autocomplete.choices", "data.choices", choices, CHOICES_MAX))
    for index, choice in enumerate(choices):
        for key in ("name", "value"):
            value = choice.get(key)
            if isinstance(value, str) and not 1 <= len(value) <= CHOICE_TEXT_MAX:
                problems.append(
                    Problem(
                        "autocomplete.choice",
                        f"data.choices.{index}.{key}",
                        f"Must be between 1 and {CHOICE_TEXT_MAX} in length.",
                    )
                )
    return problems


def form_error(problems: list[Problem]) -> dict[str, Any]:
    """Discord's 400 body for `problems`; an empty message gets its own error code."""
    if any(p.rule == "message.empty" for p in problems):
        return {"message": "Cannot send an empty message", "code": 50006}
    errors: dict[str, Any] = {}
    for problem in problems:
        node = errors
        for part in problem.path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": problem.code, "message": problem.message})
    return {"message": "Invalid Form Body", "code": 50035, "errors": errors}


def effective_mentions(content: str, allowed: dict[str, Any] | None) -> Mentions:
    """Who `content` pings under `allowed` (absent: everything in the content pings).

    Permission gates (Mention Everyone, unmentionable roles) are ignored on purpose: this is
    what the message *could* ping in a server that grants them.
    """
    users = {int(i) for i in USER_MENTION.findall(content)}
    roles = {int(i) for i in ROLE_MENTION.findall(content)}
    everyone = EVERYONE_MENTION.search(content) is not None
    if allowed is None:
        return Mentions(everyone, frozenset(users), frozenset(roles))
    parse = set(allowed.get("parse") or [])
    if "users" not in parse:
        users &= {int(i) for i in allowed.get("users") or []}
    if "roles" not in parse:
        roles &= {int(i) for i in allowed.get("roles") or []}
    return Mentions(everyone and "everyone" in parse, frozenset(users), frozenset(roles))
