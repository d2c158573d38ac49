"""Conditional reads of PyPI's JSON API and endoflife.date, each an optional source.

One aiohttp session per source: an unchanged project costs a request answered 304, thousands
of them a cycle, and aiohttp's client spends about a quarter of the CPU httpx's does on one.
The same concurrency limit, User-Agent and retry policy as for Django Packages, and
`If-None-Match` with the ETag of the last answer, so an unchanged project costs one request
answered `304 Not Modified`. What comes back is typed: `Fresh` (a new body and its ETag),
`NOT_MODIFIED`, `Gone` (a 404: the project is not there; never retried) or `ApiUnavailable`
once the attempts run out or the body is not JSON.
"""

from __future__ import annotations

import asyncio
import random as _random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import quote

import orjson

from bot.djp.client import HEADERS
from bot.djp.retry import RetryPolicy, parse_retry_after
from bot.errors import ApiUnavailable, SentinelError

if TYPE_CHECKING:
    import aiohttp

#: PyPI and endoflife.date are extras: two attempts, so a source that is down costs little.
SOURCE_RETRY = RetryPolicy(attempts=2, base_delay=1.0, max_delay=10.0, max_retry_after=30.0)

Sleep = Callable[[float], Awaitable[object]]


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


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class ConditionalClient:
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

            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def get(self, path: str, etag: str | None, *, missing: Gone) -> Answer:
        """`path` under the base URL; `etag` (when known) makes the request conditional."""
        url = self.base_url + path
        headers = HEADERS | ({"If-None-Match": etag} if etag else {})
        attempt = 1
        while True:
            try:
                return await self._attempt(url, headers, missing)
            except _Transient as failure:
                if attempt >= self._retry.attempts:
                    raise ApiUnavailable(
                        f"{self.source} kept failing for {path} ({failure}) "
                        f"after {attempt} attempts."
                    ) from failure
                await self._sleep(self._retry.delay(attempt, failure.retry_after, self._random))
                attempt += 1

    async def _attempt(self, url: str, headers: dict[str, str], missing: Gone) -> Answer:
        async with self._limit:
            self.requests_made += 1
            try:
                async with self._session().get(url, headers=headers) as response:
                    status, content = response.status, await response.read()
                    retry_after, etag = (
                        response.headers.get("Retry-After"),
                        response.headers.get("ETag"),
                    )
            except TimeoutError as exc:
                raise _Transient("timed out") from exc
            except _client_errors() as exc:
                raise _Transient(f"network error: {str(exc) or type(exc).__name__}") from exc
        if status == 304:
            self.not_modified += 1
            return NOT_MODIFIED
        if status in (404, 410):
            raise missing
        if status == 429:
            raise _Transient("HTTP 429", parse_retry_after(retry_after))
        if status >= 500:
            raise _Transient(f"HTTP {status}")
        if not 200 <= status < 300:
            raise ApiUnavailable(f"{self.source} refused {url} with HTTP {status}.")
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise ApiUnavailable(f"{self.source} sent malformed JSON for {url}.") from exc
        return Fresh(body, etag)


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
