"""Emoji shortcodes in upstream text are rendered or dropped, never shown raw."""

from __future__ import annotations

import pytest

from bot.core.shortcodes import render_shortcodes


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (":gear: Django settings :rocket:", "⚙️ Django settings 🚀"),
        (":+1: works", "👍 works"),
        ("A :nonexistent_code: app", "A app"),
        ("at 10:30:00, see https://x.org/a:b:", "at 10:30:00, see https://x.org/a:b:"),
        ("plain text", "plain text"),
    ],
)
def test_shortcodes(text: str, shown: str) -> None:
    assert render_shortcodes(text) == shown
