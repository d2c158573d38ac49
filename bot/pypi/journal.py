"""PyPI's journal: which projects changed since a serial, so a pass asks only those.

PyPI writes a journal entry, numbered by one growing serial, for every change to a project (a
release, a file added or removed, a yank, an owner, the project removed), and serves it over
XML-RPC at `POST {PYPI_URL}pypi`: `changelog_last_serial()` is the newest serial and
`changelog_since_serial(n)` the entries after `n`, oldest first, at most `JOURNAL_LIMIT` of
them, each `[name, version or nil, timestamp, action, serial]`. PyPI calls its XML-RPC API
discouraged but supports these two fully (they are how its mirrors follow it), rate-limited
per address; a pass makes one call, two when it has to take a new starting point.

An answer goes through the same bounded, origin-checked, retried path as the JSON API's
(`ConditionalClient.post`). It is read by the standard library's XML-RPC parser, as UTF-8 and
only once it is known to carry no DOCTYPE (no entity can be declared, so none expands);
anything but the expected shape is one `ApiUnavailable`.
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any
from xml.parsers.expat import ExpatError

from bot.core.pypi_checks import Journal
from bot.core.pypi_names import normalise_project_name
from bot.djp.body import MalformedBody
from bot.errors import ApiUnavailable
from bot.pypi.client import ConditionalClient, Gone

#: The most entries `changelog_since_serial` answers with (PyPI's query limit).
JOURNAL_LIMIT = 50_000


class JournalTooLong(ApiUnavailable):
    """More entries followed the serial than one answer carries: the answer is cut short."""


def read_xmlrpc(content: bytes | bytearray) -> Any:
    """The one value of an XML-RPC method response; `MalformedBody` for anything else.

    The body is decoded as UTF-8 here and handed to the parser as text, so the parser cannot
    be talked into another encoding, and the DOCTYPE check sees what the parser would see.
    """
    try:
        text = bytes(content).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("XML-RPC that is not UTF-8") from None
    if "<!DOCTYPE" in text:
        raise MalformedBody("XML-RPC with a DOCTYPE (refused unread)")
    try:
        values, _ = xmlrpc.client.loads(text)
    except xmlrpc.client.Fault as fault:
        raise MalformedBody(
            f"an XML-RPC fault ({fault.faultCode}: {str(fault.faultString)[:200]})"
        ) from None
    except (ExpatError, xmlrpc.client.Error, ValueError, TypeError, LookupError) as exc:
        raise MalformedBody(f"malformed XML-RPC ({str(exc)[:200] or type(exc).__name__})") from None
    if len(values) != 1:
        raise MalformedBody(f"an XML-RPC answer with {len(values)} values instead of one")
    return values[0]


def _is_serial(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _entry_serial(entry: object) -> tuple[str, int] | None:
    """The project named and the serial of one well-shaped entry, else None."""
    if not isinstance(entry, list) or len(entry) != 5:
        return None
    name, version, timestamp, action, serial = entry
    well_shaped = (
        isinstance(name, str)
        and name.strip() != ""
        and (version is None or isinstance(version, str))
        and isinstance(timestamp, int)
        and isinstance(action, str)
        and _is_serial(serial)
    )
    return (name, serial) if well_shaped else None


class PypiJournal:
    """PyPI's journal over XML-RPC; `limit` is the server's cap on one answer's entries."""

    def __init__(self, http: ConditionalClient, *, limit: int = JOURNAL_LIMIT) -> None:
        self.http = http
        self.limit = limit

    async def last_serial(self) -> int:
        """The newest serial in the journal."""
        value = await self._call("changelog_last_serial")
        if not _is_serial(value):
            raise ApiUnavailable(f"PyPI's journal gave {value!r:.40} as its last serial.")
        return int(value)

    async def since(self, serial: int) -> Journal:
        """The projects named after `serial`; `JournalTooLong` when the answer is cut short."""
        entries = await self._call("changelog_since_serial", serial)
        if not isinstance(entries, list):
            raise ApiUnavailable("PyPI's journal answered with something else than entries.")
        if len(entries) >= self.limit:
            raise JournalTooLong(
                f"PyPI's journal has {len(entries):,} or more entries since the last pass, "
                "more than one answer carries."
            )
        newest, named = serial, dict[str, int]()
        for entry in entries:
            found = _entry_serial(entry)
            if found is None or found[1] <= serial:
                raise ApiUnavailable(
                    "PyPI's journal has an entry that is not [name, version, time, action, "
                    f"serial] with a serial after the last pass's: {entry!r:.80}"
                )
            name, at = normalise_project_name(found[0]), found[1]
            named[name] = max(at, named.get(name, at))
            newest = max(newest, at)
        return Journal(newest, named)

    async def _call(self, method: str, *params: int) -> Any:
        return await self.http.post(
            "pypi",
            xmlrpc.client.dumps(params, method).encode(),
            content_type="text/xml",
            read=read_xmlrpc,
            missing=Gone("PyPI serves no journal (no XML-RPC at /pypi)."),
        )
