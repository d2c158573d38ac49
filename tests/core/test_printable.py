"""`printable`: upstream text safe for a terminal or a log line."""

from __future__ import annotations

import pytest

from bot.core.printable import printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]0;title\x07django", "]0;titledjango"),  # terminal title (OSC 0)
        ("\x1b[2J\x1b[Hclear", "[2J[Hclear"),  # clear screen (CSI)
        ("\x1b]52;c;ZXZpbA==\x07x", "]52;c;ZXZpbA==x"),  # clipboard write (OSC 52)
        ("\x9b31mred", "31mred"),  # C1 CSI
        ("abc\u202edef\u2066g\u200f", "abcdefg"),  # bidi override, isolate, mark
        ("id 7\nERROR forged\r\n", "id 7 ERROR forged  "),  # no second log line
        ("tab\there\x00\x7f", "tab here"),
        ("Ünïcödé stays ✓", "Ünïcödé stays ✓"),
    ],
)
def test_controls_and_bidi_formatting_are_removed(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_line_breaks_stay_for_a_terminal_layout() -> None:
    assert printable("• one\n• two\r\x1b[2J", lines=True) == "• one\n• two [2J"


def test_anything_is_shown_as_text() -> None:
    assert printable(265) == "265"
