"""What a refresh knows of a stored package before it compares (`LastSeen`), and what it hands
back to be written (`Observed`, `Revisited`): the values between the refresh's comparison
step (`bot.refresh.compare`) and `storage.packages`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from bot.core.health import Activity
from bot.core.records import PackageRecord


class LastSeen(NamedTuple):
    """What a refresh needs of a stored package to tell whether it moved, without rebuilding
    its record: the content hash and payload fingerprint, when we read it, and its `Activity`
    (upstream's `last_fetched` then, the moment its commit window was computed, which the
    hashes leave out). `NamedTuple`s, like `Revisited`: a refresh reads one per package."""

    content_hash: str
    payload_hash: str | None
    fetched_at: datetime
    activity: Activity

    @property
    def last_fetched(self) -> datetime | None:
        return self.activity.last_fetched


@dataclass(frozen=True, slots=True)
class Observed:
    """A package whose content is new or moved: its record (unknown fields already filled
    from the last known one), content hash, and payload fingerprint (None when it was fetched
    on its own)."""

    record: PackageRecord
    content_hash: str
    payload_hash: str | None


class Revisited(NamedTuple):
    """A stored package fetched again with the same content: all its row needs."""

    package_id: int
    last_fetched: datetime | None
    payload_hash: str | None
