"""Where the command line writes: data on stdout, notes and warnings on stderr.

On a terminal, output fits its width. Piped or redirected, lines are never wrapped (a script
or `grep` gets whole lines), unless `COLUMNS` asks for a width.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TypeVar

from rich.console import Console
from rich.markup import escape

from bot.core.plural import counted
from bot.core.printable import printable

T = TypeVar("T")

#: The width of piped output: no line is that long, so none is wrapped.
UNWRAPPED = 100_000
#: Rows a table shows without `--limit`.
DEFAULT_LIMIT = 25


def data_console() -> Console:
    """A console on stdout, for what the command was asked to print."""
    console = Console(highlight=False, soft_wrap=False)
    if console.is_terminal or "COLUMNS" in os.environ:
        return console
    return Console(highlight=False, soft_wrap=True, width=UNWRAPPED)


def note(line: str | None) -> None:
    """A note or warning beside the data (yellow on a terminal), on stderr; what upstream
    wrote into it is shown without control sequences (`printable`)."""
    if line:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"[yellow]{escape(printable(line))}[/yellow]"
        )


def status(line: str) -> None:
    """A plain line on stderr: what was done, beside the data (e.g. a file written)."""
    print(line, file=sys.stderr)


def print_json(document: Any) -> None:
    """A JSON document on stdout."""
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def limited(rows: Sequence[T], limit: int | None, *, json: bool) -> Sequence[T]:
    """The rows a listing prints: `--limit N` (0: all); unset, 25 in a table and all as JSON
    (a program reading it wants the whole list)."""
    if limit is None:
        limit = 0 if json else DEFAULT_LIMIT
    return rows[:limit] if limit else rows


def more_line(shown: int, total: int, noun: str) -> str | None:
    """ "… 3,012 more stale packages: --limit 0 shows them all" when a listing of `noun`s
    ("stale package") was cut."""
    if total <= shown:
        return None
    more = counted(total - shown, f"more {noun}")
    return f"… {more}: --limit N shows more, --limit 0 all of them."
