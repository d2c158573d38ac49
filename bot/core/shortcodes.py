"""GitHub-style emoji shortcodes in upstream text (":gear: Django app"): rendered as the emoji
(`emoji`, GitHub's aliases included), and any that is unknown dropped, never shown raw.

`emoji` (its tables take a few hundredths of a second to load) is imported at the first text
that holds a colon, not with this module."""

from __future__ import annotations

import re

#: A shortcode standing on its own: ":gear:", not the middle of "10:30:00" or a URL.
_LEFTOVER = re.compile(r"(?<![\w:/]):[a-z0-9_+\-]+:(?![\w/])")
_SPACES = re.compile(r"[ \t]{2,}")


def render_shortcodes(text: str) -> str:
    """ ":gear: Django :nope: app" → "⚙️ Django app"."""
    if ":" not in text:
        return text
    import emoji

    rendered = _LEFTOVER.sub("", emoji.emojize(text, language="alias"))
    return _SPACES.sub(" ", rendered).strip() if rendered != text else text
