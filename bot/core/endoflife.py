"""Django's release cycles as endoflife.date lists them (`GET /api/django.json`).

Each cycle is a feature release (`5.2`) with its release date, the end of its mainstream
support (`support`) and of its security support (`eol`). A cycle whose entry is unreadable is
skipped; an answer that is not a list of cycles is an `InvalidRecord` (the cycles stay unknown).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.errors import InvalidRecord

_CYCLE = re.compile(r"^\d+\.\d+$")


@dataclass(frozen=True, slots=True)
class DjangoCycle:
    """One Django feature release and its support dates (None where unknown)."""

    cycle: str
    released: date | None
    support_ends: date | None
    security_ends: date | None
    lts: bool = False

    @property
    def key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.cycle.split("."))

    def describe(self) -> str:
        """ "Django 4.2 LTS: released 2023-04-03, security support ends 2026-04-07"."""
        label = f"Django {self.cycle}" + (" LTS" if self.lts else "")
        parts = []
        if self.released:
            parts.append(f"released {self.released:%Y-%m-%d}")
        if self.security_ends:
            parts.append(f"security support ends {self.security_ends:%Y-%m-%d}")
        return f"{label}: {', '.join(parts)}" if parts else label

    def as_json(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle,
            "released": self.released.isoformat() if self.released else None,
            "support_ends": self.support_ends.isoformat() if self.support_ends else None,
            "security_ends": self.security_ends.isoformat() if self.security_ends else None,
            "lts": self.lts,
        }


def _date(value: object) -> date | None:
    """A `YYYY-MM-DD` string to a date; anything else (a boolean, a blank) is unknown."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _cycle(entry: object) -> DjangoCycle | None:
    if not isinstance(entry, dict):
        return None
    name = entry.get("cycle")
    if not isinstance(name, str) or not _CYCLE.match(name.strip()):
        return None
    return DjangoCycle(
        cycle=name.strip(),
        released=_date(entry.get("releaseDate")),
        support_ends=_date(entry.get("support")),
        security_ends=_date(entry.get("eol")),
        lts=entry.get("lts") is True,
    )


def parse_cycles(payload: Any) -> list[DjangoCycle]:
    """The readable cycles of an answer, newest first."""
    if not isinstance(payload, list):
        raise InvalidRecord("endoflife", "django", "(root)", "expected a list of release cycles")
    cycles = [cycle for cycle in map(_cycle, payload) if cycle is not None]
    if payload and not cycles:
        raise InvalidRecord("endoflife", "django", "cycle", "no readable release cycle")
    return sorted(cycles, key=lambda c: c.key, reverse=True)


def newest_cycle(cycles: Sequence[DjangoCycle], today: date) -> DjangoCycle | None:
    """The newest feature release already out on `today` (the default of the readiness board)."""
    released = [c for c in cycles if c.released is None or c.released <= today]
    return max(released, key=lambda c: c.key, default=None)


def find_cycle(cycles: Sequence[DjangoCycle], version: str) -> DjangoCycle | None:
    return next((c for c in cycles if c.cycle == version), None)
