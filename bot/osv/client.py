"""Async client for the OSV API (`POST v1/querybatch`, `GET v1/vulns/{id}`).

Isolated like every upstream: each call either answers in full or raises `OsvUnavailable`
(network error, timeout, an HTTP error status, a body that is not the documented shape), and
the caller tries again at its next interval. No retries here: a missed poll only delays news.
The poll asks with `list_vulns` and `read_vulns` instead, which keep what OSV answered well:
an item (a name's result, a record) answered with something that is not what the API
documents (`OsvMalformed`) costs only that item.

OSV is held to Django Packages' bounds (`bot.djp.body`, `bot.djp.origin`): a body decodes to at
most 16 MiB, JSON of any depth is read or refused, and a redirect is followed only within
`OSV_API_URL`'s origin.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar
from urllib.parse import quote

import httpx

from bot.djp.body import MalformedBody, decode_json, read_body
from bot.djp.client import HEADERS
from bot.djp.lifecycle import HttpxUpstream
from bot.djp.origin import MAX_REDIRECTS, OffOrigin, next_hop
from bot.errors import SentinelError

#: OSV accepts at most 1,000 queries per batch.
BATCH_SIZE = 1000
#: Records read at once.
CONCURRENCY = 4
#: Pages followed for one query before giving up on it (a runaway token).
MAX_PAGES = 20


class OsvUnavailable(SentinelError):
    """OSV could not be reached, or answered something that is not what its API documents."""


class OsvMalformed(OsvUnavailable):
    """OSV answered, with something that is not what its API documents (not JSON, or not
    the shape asked for)."""


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Answered(Generic[T]):
    """What OSV answered for each item asked (`found`), and why it could not read the others
    (`malformed`, by item)."""

    found: dict[str, T]
    malformed: dict[str, str]

    def whole(self) -> dict[str, T]:
        """Every item, or `OsvMalformed` when OSV answered one of them badly."""
        if self.malformed:
            raise OsvMalformed(next(iter(self.malformed.values())))
        return self.found


@dataclass(frozen=True, slots=True)
class VulnRef:
    """An id a batch query returned, with its record's `modified` time."""

    id: str
    modified: str


@dataclass(frozen=True, slots=True)
class Requests:
    """How many requests of each kind a client made (for the benchmark and the logs)."""

    batches: int = 0
    records: int = 0


class OsvClient(HttpxUpstream):
    """One HTTP pool; `base_url` ends with a slash (`https://api.osv.dev/`)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        batch_size: int = BATCH_SIZE,
        owns_http: bool = False,
    ) -> None:
        super().__init__(http, owns_http=owns_http)
        self._base = base_url if base_url.endswith("/") else base_url + "/"
        self._batch_size = batch_size
        self.requests = Requests()

    @classmethod
    def open(cls, base_url: str, *, timeout: float) -> Self:
        """A client with its own HTTP pool (closed by `aclose()`)."""
        return cls(
            httpx.AsyncClient(timeout=timeout, headers=HEADERS), base_url=base_url, owns_http=True
        )

    async def vulns_for(self, names: Sequence[str]) -> dict[str, list[VulnRef]]:
        """Every advisory id naming each PyPI package (any version), by name."""
        return (await self.list_vulns(names)).whole()

    async def list_vulns(self, names: Sequence[str]) -> Answered[list[VulnRef]]:
        """`vulns_for`, keeping the names OSV answered well: batches of `batch_size` queries,
        each query's pages followed by `next_page_token`; a name whose result is malformed is
        left out of `found` (a batch that is, or a failure, still raises)."""
        found: dict[str, list[VulnRef]] = {name: [] for name in names}
        malformed: dict[str, str] = {}
        pending: list[tuple[str, str | None]] = [(name, None) for name in dict.fromkeys(names)]
        for _ in range(MAX_PAGES):
            if not pending:
                return Answered(found, malformed)
            following: list[tuple[str, str | None]] = []
            for start in range(0, len(pending), self._batch_size):
                chunk = pending[start : start + self._batch_size]
                results = await self._batch(chunk)
                for (name, _token), result in zip(chunk, results, strict=True):
                    try:
                        refs, token = _result(result)
                    except OsvMalformed as exc:
                        del found[name]
                        malformed[name] = f"the list of {name}: {exc}"
                        continue
                    found[name] += refs
                    if token:
                        following.append((name, token))
            pending = following
        raise OsvUnavailable("OSV kept paging one query past 20 pages.")

    async def vulns(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The records of `ids` (those OSV no longer has are left out)."""
        return (await self.read_vulns(ids)).whole()

    async def read_vulns(self, ids: Sequence[str]) -> Answered[dict[str, Any]]:
        """`vulns`, keeping the records OSV answered well, `CONCURRENCY` requests at a time; a
        record answered malformed is left out of `found` (a failure still raises)."""
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(vuln_id: str) -> dict[str, Any] | OsvMalformed | None:
            async with gate:
                try:
                    return await self.vuln(vuln_id)
                except OsvMalformed as exc:
                    return exc

        read = await asyncio.gather(*(one(vuln_id) for vuln_id in ids))
        return Answered(
            {vuln_id: got for vuln_id, got in zip(ids, read, strict=True) if isinstance(got, dict)},
            {
                vuln_id: f"the record {vuln_id}: {got}"
                for vuln_id, got in zip(ids, read, strict=True)
                if isinstance(got, OsvMalformed)
            },
        )

    async def vuln(self, vuln_id: str) -> dict[str, Any] | None:
        """The full record of `vuln_id`, or None when OSV has none (404)."""
        body = await self._call("GET", f"v1/vulns/{quote(vuln_id, safe='')}", missing_ok=True)
        self.requests = Requests(self.requests.batches, self.requests.records + 1)
        if body is None:
            return None
        if not isinstance(body, dict) or body.get("id") != vuln_id:
            raise OsvMalformed(f"OSV answered something else than the record {vuln_id}.")
        return body

    async def _batch(self, chunk: Sequence[tuple[str, str | None]]) -> list[Any]:
        queries = [
            {"package": {"name": name, "ecosystem": "PyPI"}}
            | ({"page_token": token} if token else {})
            for name, token in chunk
        ]
        body = await self._call("POST", "v1/querybatch", json_body={"queries": queries})
        self.requests = Requests(self.requests.batches + 1, self.requests.records)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != len(chunk):
            raise OsvUnavailable("OSV's batch answer does not list one result per query.")
        return results

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        request = self._http.build_request(method, self._base + path, json=json_body)
        try:
            for _ in range(MAX_REDIRECTS + 1):
                response = await self._http.send(request, stream=True, follow_redirects=False)
                try:
                    if response.next_request is None:
                        return await _json_body(response, missing_ok)
                    request = response.next_request  # httpx's: a 307 keeps the POST's body
                    next_hop(httpx.URL(self._base), response.url, request.url)
                finally:
                    await response.aclose()
        except httpx.HTTPError as exc:
            raise OsvUnavailable(f"OSV could not be reached ({type(exc).__name__}).") from exc
        except OffOrigin as exc:
            raise OsvUnavailable(f"OSV {exc}; check OSV_API_URL.") from None
        raise OsvUnavailable(f"OSV redirected more than {MAX_REDIRECTS} times; check OSV_API_URL.")


async def _json_body(response: httpx.Response, missing_ok: bool) -> Any:
    """The JSON of a streamed answer (None for a 404 when `missing_ok`), within the bounds."""
    if response.status_code == 404 and missing_ok:
        return None
    if response.status_code != 200:
        raise OsvUnavailable(f"OSV answered HTTP {response.status_code}.")
    try:
        return decode_json(await read_body(response))
    except MalformedBody as exc:
        raise OsvMalformed(f"OSV answered with {exc}.") from exc


def _result(result: Any) -> tuple[list[VulnRef], str | None]:
    """One query's result: its ids with their `modified` times, and the next page's token.
    An empty object (`{}`) is a query with no advisory, as OSV sends it."""
    if not isinstance(result, dict):
        raise OsvMalformed("OSV's batch answer holds a result that is not an object.")
    refs = []
    for vuln in result.get("vulns") or ():
        if not (
            isinstance(vuln, dict)
            and isinstance(vuln.get("id"), str)
            and isinstance(vuln.get("modified"), str)
        ):
            raise OsvMalformed("OSV's batch answer names an advisory without id or modified.")
        refs.append(VulnRef(vuln["id"], vuln["modified"]))
    token = result.get("next_page_token")
    return refs, token if isinstance(token, str) and token else None
