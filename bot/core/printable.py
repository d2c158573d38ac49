"""Upstream text made safe to print on a terminal or in a log line.

Text from Django Packages (or wherever a wrong `DJP_API_URL` points) is shown to operators.
Raw, an ESC sequence in a title sets the terminal's title, clears the screen, plants OSC 8
links or writes the clipboard (OSC 52); a newline in a value forges a log line; a bidi
override makes text read other than it is. `printable` removes C0 and C1 controls (line
breaks and tabs become a space, or for text laid out in lines on a terminal, `\n` stays) and
the bidi embedding, override and isolate characters.
"""

from __future__ import annotations

_SPACES = "\t\n\v\f\r\x85\u2028\u2029"
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_TABLE: dict[int, str | None] = {code: None for code in (*_CONTROLS, *_BIDI)}
_TABLE.update({ord(space): " " for space in _SPACES})
_LINES_TABLE = {**_TABLE, ord("\n"): "\n"}


def printable(text: object, *, lines: bool = False) -> str:
    """`text` (as `str`) on one line, without control or bidi-formatting characters; with
    `lines`, its line breaks (`\n`) are kept (a terminal, never a log line)."""
    return str(text).translate(_LINES_TABLE if lines else _TABLE)
