"""Conditional reads of PyPI's JSON API and endoflife.date, each an optional source.

One aiohttp session per source: an unchanged project costs a request answered 304, thousands
of them a cycle, and aiohttp's client spends about a quarter of the CPU httpx's does on one.
The same concurrency limit, User-Agent and retry policy as for Django Packages, and
`If-None-Match` with the ETag of the last answer, so an unchanged project costs one request
answered `304 Not Modified`. What comes back is typed: `Fresh` (a new body and its ETag),
`NOT_MODIFIED`, `Gone` (a 404: the project is not there; never retried) or `ApiUnavailable`
once the attempts run out or the body is not JSON.

Both are held to Django Packages' bounds (`bot.djp.body`, `bot.djp.origin`): the session does
not decompress, so a body is inflated here in steps up to 16 MiB; JSON of any depth is read or
refused; a redirect is followed only within the configured URL's origin.
"""

from __future__ import annotations

import asyncio
import random as _random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import quote

import httpx

from bot.djp.body import MalformedBody, decode_json, inflate
from bot.djp.client import HEADERS
from bot.djp.lifecycle import UpstreamClient
from bot.djp.origin import MAX_REDIRECTS, OffOrigin, next_hop
from bot.djp.retry import RetryPolicy, Sleep, Transient, parse_retry_after, retrying
from bot.errors import ApiUnavailable, SentinelError

if TYPE_CHECKING:
    import aiohttp

#: PyPI and endoflife.date are extras: two attempts, so a source that is down costs little.
SOURCE_RETRY = RetryPolicy(attempts=2, base_delay=1.0, max_delay=10.0, max_retry_after=30.0)

#: The statuses that redirect (a 304 does not).
_MOVED = frozenset({301, 302, 303, 307, 308})
#: Raw body bytes read at a time.
_CHUNK = 64 * 1024
#: Reads a success's body; raises `MalformedBody` for one it cannot use.
Read = Callable[[bytes | bytearray], Any]


@dataclass(frozen=True, slots=True)
class Fresh:
    """A new answer: its decoded JSON and the ETag to send next time (None: none given)."""

    body: Any
    etag: str | None


NotModified = Literal["not-modified"]
NOT_MODIFIED: Final[NotModified] = "not-modified"
Answer = Fresh | NotModified


def _client_errors() -> type[Exception]:
    """aiohttp's base error, once a session (so aiohttp) exists."""
    import aiohttp

    return aiohttp.ClientError


class Gone(SentinelError):
    """The source has no such document (HTTP 404 or 410)."""


@dataclass(frozen=True, slots=True)
class _Request:
    """What one request sends: `method` to `path` under the base URL, with `headers` (and
    `body`), and how a success's body is read."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes | None = None
    read: Read = decode_json


@dataclass(frozen=True, slots=True)
class _Reply:
    """What one exchange brought back: `location` for a redirect, `content` for a success."""

    status: int
    content: bytes | bytearray
    etag: str | None
    retry_after: str | None
    location: str | None


class ConditionalClient(UpstreamClient):
    """GETs JSON documents under one base URL, conditionally, counting what it sends.

    `requests_made` counts every request sent and `not_modified` the ones answered 304, so a
    benchmark or `/status` can tell what a cycle cost.
    """

    def __init__(
        self,
        *,
        base_url: str,
        source: str,
        timeout: float,
        concurrency: int = 2,
        retry: RetryPolicy = SOURCE_RETRY,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self._http: aiohttp.ClientSession | None = None
        self._timeout = timeout
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.source = source
        self.concurrency = concurrency
        self._limit = asyncio.Semaphore(concurrency)
        self._retry = retry
        self._sleep = sleep
        self._random = random
        self.requests_made = 0
        self.not_modified = 0

    def _session(self) -> aiohttp.ClientSession:
        """The HTTP pool, opened at the first request: a command that never asks (`stale`)
        never loads aiohttp."""
        if self._http is None:
            import aiohttp

            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                auto_decompress=False,  # `inflate` decodes, within the body cap
            )
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP pool, if a request opened it."""
        if self._http is not None:
            await self._http.close()

    async def get(self, path: str, etag: str | None, *, missing: Gone) -> Answer:
        """`path` under the base URL; `etag` (when known) makes the request conditional."""
        headers = HEADERS | ({"If-None-Match": etag} if etag else {})
        return await self._send(_Request("GET", path, headers), missing)

    async def post(
        self, path: str, body: bytes, *, content_type: str, read: Read, missing: Gone
    ) -> Any:
        """POST `body` (of `content_type`) to `path` under the base URL: what `read` makes of
        the answer's body, within the same bounds, retries and redirect policy as `get`."""
        headers = HEADERS | {"Accept": content_type, "Content-Type": content_type}
        answer = await self._send(_Request("POST", path, headers, body, read), missing)
        if answer == NOT_MODIFIED:
            raise ApiUnavailable(f"{self.source} answered POST {path} with 304 Not Modified.")
        return answer.body

    async def _send(self, request: _Request, missing: Gone) -> Answer:
        """`request`, tried again within the retry policy while its failures may pass."""
        return await retrying(
            lambda: self._attempt(request, missing),
            self._retry,
            sleep=self._sleep,
            random=self._random,
            upstream=self.source,
            asked=request.path,
        )

    async def _attempt(self, request: _Request, missing: Gone) -> Answer:
        """One request, following redirects within the base URL's origin."""
        url = target = self.base_url + request.path
        async with self._limit:
            for _ in range(MAX_REDIRECTS + 1):
                reply = await self._exchange(request, target)
                if reply.location is None:
                    return self._answer(reply, url, request.read, missing)
                try:  # parsed by httpx only for a redirect: aiohttp parses every URL anyway
                    hop = next_hop(httpx.URL(self.base_url), httpx.URL(target), reply.location)
                except OffOrigin as exc:
                    raise ApiUnavailable(f"{self.source} {exc}.") from None
                target = str(hop)
        raise ApiUnavailable(f"{self.source} redirected {url} more than {MAX_REDIRECTS} times.")

    async def _exchange(self, request: _Request, target: str) -> _Reply:
        """Send `request` to `target`; read its body (within the cap) only if it is a success."""
        self.requests_made += 1
        try:
            async with self._session().request(
                request.method,
                target,
                headers=request.headers,
                data=request.body,
                allow_redirects=False,
            ) as response:
                location = response.headers.get("Location") if response.status in _MOVED else None
                content: bytes | bytearray = b""
                if 200 <= response.status < 300 and location is None:
                    encoding = response.headers.get("Content-Encoding")
                    content = await inflate(response.content.iter_chunked(_CHUNK), encoding)
                return _Reply(
                    response.status,
                    content,
                    response.headers.get("ETag"),
                    response.headers.get("Retry-After"),
                    location,
                )
        except TimeoutError as exc:
            raise Transient("timed out") from exc
        except MalformedBody as exc:
            raise ApiUnavailable(f"{self.source} sent {exc} for {target}.") from exc
        except _client_errors() as exc:
            raise Transient(f"network error: {str(exc) or type(exc).__name__}") from exc

    def _answer(self, reply: _Reply, url: str, read: Read, missing: Gone) -> Answer:
        """What a final (not redirected) reply means."""
        status = reply.status
        if status == 304:
            self.not_modified += 1
            return NOT_MODIFIED
        if status in (404, 410):
            raise missing
        if status == 429:
            raise Transient("HTTP 429", parse_retry_after(reply.retry_after))
        if status >= 500:
            raise Transient(f"HTTP {status}")
        if not 200 <= status < 300:
            raise ApiUnavailable(f"{self.source} refused {url} with HTTP {status}.")
        try:
            body = read(reply.content)
        except MalformedBody as exc:
            raise ApiUnavailable(f"{self.source} sent {exc} for {url}.") from exc
        return Fresh(body, reply.etag)


class PypiClient:
    """`GET {PYPI_URL}pypi/<project>/json`, conditionally."""

    def __init__(self, client: ConditionalClient) -> None:
        self.http = client

    async def project(self, name: str, etag: str | None) -> Answer:
        return await self.http.get(
            f"pypi/{quote(name, safe='')}/json",
            etag,
            missing=Gone(f"PyPI has no project {name!r}."),
        )


class EndOfLifeClient:
    """`GET {ENDOFLIFE_URL}django.json`, conditionally."""

    def __init__(self, client: ConditionalClient) -> None:
        self.http = client

    async def django(self, etag: str | None) -> Answer:
        return await self.http.get(
            "django.json", etag, missing=Gone("endoflife.date has no django.json.")
        )
