"""PyPI's journal, for the fake PyPI: every change to a project numbered by one growing serial,
and the two XML-RPC methods PyPI's mirrors read it with, answered as PyPI's server does
(`changelog_last_serial()`; `changelog_since_serial(n)`: the entries after `n`, oldest first,
at most `limit`, each `[name, version or nil, timestamp, action, serial]`)."""

from __future__ import annotations

import bisect
import random
import xmlrpc.client
from datetime import UTC, datetime
from typing import Any, NamedTuple

#: PyPI's cap on one `changelog_since_serial` answer.
JOURNAL_LIMIT = 50_000


class JournalEntry(NamedTuple):
    name: str
    version: str | None
    timestamp: int
    action: str
    serial: int


class FakeJournal:
    """The entries recorded after `serial` (the journal's newest serial when it starts)."""

    def __init__(self, serial: int, *, limit: int = JOURNAL_LIMIT) -> None:
        self.serial = serial
        self.limit = limit
        self.entries: list[JournalEntry] = []

    def record(self, name: str, version: str | None, action: str, at: datetime | None) -> int:
        """One entry for project `name` (its display name, as PyPI writes it); its serial."""
        self.serial += 1
        stamp = int((at or datetime.now(UTC)).timestamp())
        self.entries.append(JournalEntry(name, version, stamp, action, self.serial))
        return self.serial

    def release(self, name: str, version: str, at: datetime | None = None) -> int:
        """What PyPI writes for an upload: the release, then each of its files."""
        self.record(name, version, "new release", at)
        self.record(name, version, f"add source file {name}-{version}.tar.gz", at)
        return self.record(name, version, f"add py3 file {name}-{version}-py3-none-any.whl", at)

    def noise(self, entries: int, rng: random.Random) -> None:
        """About `entries` entries for projects nobody watches (uploads mostly, as on PyPI)."""
        target = self.serial + entries
        while self.serial < target:
            name = f"elsewhere-{rng.randrange(400_000)}"
            if rng.random() < 0.9:
                self.release(name, f"{rng.randrange(20)}.{rng.randrange(20)}.0")
            else:
                self.record(name, None, f"add Owner user{rng.randrange(10_000)}", None)

    def since(self, serial: int) -> list[JournalEntry]:
        start = bisect.bisect_right(self.entries, serial, key=lambda entry: entry.serial)
        return self.entries[start : start + self.limit]

    def answer(self, method: str, params: tuple[Any, ...]) -> Any:
        """What PyPI answers to `method(*params)`; `xmlrpc.client.Fault` for a bad call."""
        if method == "changelog_last_serial" and not params:
            return self.serial
        if method == "changelog_since_serial" and len(params) == 1 and type(params[0]) is int:
            return [list(entry) for entry in self.since(params[0])]
        raise xmlrpc.client.Fault(-32601, f"server error; requested method not found: {method}")


def method_response(value: Any) -> str:
    """An XML-RPC method response (a fault when `value` is one), serialised as PyPI does."""
    if isinstance(value, xmlrpc.client.Fault):
        return xmlrpc.client.dumps(value, methodresponse=True, allow_none=True)
    return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True)
