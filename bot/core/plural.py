"""Counts in words, the noun agreeing with the number: "1 grid", "2 grids"."""

from __future__ import annotations


def counted(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 request", "2 requests", "1,200 requests"; `nouns` where adding an s is wrong
    ("2 passes")."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"
