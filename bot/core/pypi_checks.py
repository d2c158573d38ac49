"""What the PyPI pass knows of a watched project before it asks (`PypiTarget`,
`StoredProject`), what PyPI's journal says moved (`Journal`), and what the pass hands back to
be written (`Checked`): the values between the pass's decide steps (`bot.refresh.pypi_plan`,
`bot.refresh.pypi_compare`) and `storage.pypi`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.core.pypi import PypiProject


@dataclass(frozen=True, slots=True)
class PypiTarget:
    """A watched package with a `pypi_url`, and what its next request needs."""

    package_id: int
    pypi_url: str
    etag: str | None
    checked_at: datetime | None
    next_check_at: datetime | None
    failure_count: int
    #: The project name the last request asked for (None: never asked).
    asked_as: str | None = None


@dataclass(frozen=True, slots=True)
class Journal:
    """PyPI's journal read since the cursor: `serial`, the newest entry read (the cursor
    itself when there was none), and each project named (PEP 503 name) with the newest serial
    naming it."""

    serial: int
    named: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class StoredProject:
    project: PypiProject | None
    declared: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome of one request: `project` when a new answer was read (else unchanged)."""

    package_id: int
    name: str
    checked_at: datetime
    next_check_at: datetime
    etag: str | None = None
    project: PypiProject | None = None
    declared: tuple[str, ...] | None = None
    error: str | None = None
