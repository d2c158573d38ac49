"""How an optional upstream (PyPI, endoflife.date, OSV) is doing, for `/status`, `djp-sentinel
status` and endoflife.date's retry schedule.

Each pass that asks a source ends with a `SourceRun` (what it cost and met); `SourceHealth`
folds the runs into what is kept between processes: the last run, when the source last gave a
usable answer, how many runs in a row it gave none, and the last error as one line.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.core.backoff import backoff

#: Characters of an error kept: one line of `/status`.
ERROR_LINE = 200
#: `user:password@` in a URL (a private index's credentials in `PYPI_URL`, say).
_USERINFO = re.compile(r"(://)[^/@\s]+@")


class Source(StrEnum):
    """An optional upstream whose health is kept (the value labels its metrics)."""

    PYPI = "pypi"
    ENDOFLIFE = "endoflife"
    OSV = "osv"

    @property
    def display_name(self) -> str:
        return {Source.PYPI: "PyPI", Source.ENDOFLIFE: "endoflife.date", Source.OSV: "OSV"}[self]


def error_line(text: str) -> str:
    """`text` as one short line fit to show anyone: the first line, credentials in URLs
    hidden, at most `ERROR_LINE` characters."""
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    line = _USERINFO.sub(r"\1***@", first)
    return line if len(line) <= ERROR_LINE else line[: ERROR_LINE - 1] + "…"


@dataclass(frozen=True, slots=True)
class SourceRun:
    """What one pass asked of a source. `read` is whether any answer was usable (new or not
    modified); `gave_up` whether the pass stopped asking because the source kept failing."""

    requests: int = 0
    not_modified: int = 0
    failures: int = 0
    read: bool = False
    gave_up: bool = False
    error: str | None = None

    @property
    def failed(self) -> bool:
        """Asked, and nothing usable came back: the source is down (or refusing)."""
        return self.failures > 0 and not self.read


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A source as its passes left it: `last` is the latest run, ended at `checked_at`."""

    checked_at: datetime
    last: SourceRun = field(default_factory=SourceRun)
    #: When a run last read a usable answer: the age of what is known.
    read_at: datetime | None = None
    #: Runs in a row that asked and read nothing (0 once one reads).
    failed_runs: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None

    @classmethod
    def first(cls, run: SourceRun, now: datetime) -> SourceHealth:
        return cls(now).after(run, now)

    def after(self, run: SourceRun, now: datetime) -> SourceHealth:
        """This health once `run` ended at `now`. A run that asked nothing (nothing was due)
        leaves the reads, failures and last error as they were."""
        if run.requests == 0:
            return replace(self, checked_at=now, last=run)
        error = error_line(run.error) if run.error else None
        return SourceHealth(
            checked_at=now,
            last=replace(run, error=error),
            read_at=now if run.read else self.read_at,
            failed_runs=self.failed_runs + 1 if run.failed else 0 if run.read else self.failed_runs,
            last_error=error or self.last_error,
            last_error_at=now if error else self.last_error_at,
        )

    def next_ask(self, interval: timedelta, first_retry: timedelta) -> datetime:
        """When to ask again: `interval` after a run that read, sooner after a failed one
        (`first_retry`, doubling with each failed run in a row, at most `interval`)."""
        if self.failed_runs == 0:
            return self.checked_at + interval
        return self.checked_at + backoff(first_retry, self.failed_runs, interval)

    def to_json(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "last": asdict(self.last),
            "read_at": self.read_at.isoformat() if self.read_at else None,
            "failed_runs": self.failed_runs,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceHealth:
        """What `to_json` wrote; raises `KeyError`, `TypeError` or `ValueError` on anything
        else."""
        return cls(
            checked_at=datetime.fromisoformat(data["checked_at"]),
            last=SourceRun(**data["last"]),
            read_at=_moment(data["read_at"]),
            failed_runs=int(data["failed_runs"]),
            last_error=data["last_error"],
            last_error_at=_moment(data["last_error_at"]),
        )


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
