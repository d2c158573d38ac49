"""Errors the core raises; each carries a message fit to show a user in one line."""

from __future__ import annotations


class SentinelError(Exception):
    """Base class: `str(error)` is one sentence saying what happened and what to do."""

    @property
    def user_message(self) -> str:
        """What to tell the person who asked: the same sentence, unless it holds internals."""
        return str(self)


class NotFound(SentinelError):
    """Django Packages answered 404 for this package, grid or category."""

    def __init__(self, kind: str, key: int | str) -> None:
        super().__init__(f"No {kind} {key!r} on Django Packages.")
        self.kind = kind
        self.key = key


class ApiUnavailable(SentinelError):
    """Django Packages could not be reached or kept failing after retries."""


class InvalidRecord(SentinelError):
    """An API payload failed validation; the record is skipped, never half-used."""

    def __init__(self, kind: str, record_id: object, field: str, reason: str) -> None:
        super().__init__(f"Invalid {kind} record id={record_id}: field {field!r}: {reason}")
        self.kind = kind
        self.record_id = record_id
        self.field = field
        self.reason = reason

    @property
    def user_message(self) -> str:
        """Without the field name and validator text, which are for the operator's log."""
        return (
            f"Django Packages sent this {self.kind} with data that cannot be read: try again later."
        )
