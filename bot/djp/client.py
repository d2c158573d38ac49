"""Async client for the Django Packages REST API v4.

One `httpx.AsyncClient`, a concurrency limit around every request, and retries with backoff
for whatever may pass (network errors, timeouts, 5xx, 429, HTML maintenance pages, broken
JSON). What will not pass is typed: `NotFound` for a 404 (never retried), `ApiUnavailable` once
the attempts run out, `InvalidRecord` for a detail payload that fails validation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random as _random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self, TypeVar

import httpx
import orjson

from bot import __version__
from bot.config import DEFAULT_DJP_API_URL, Settings
from bot.core.records import (
    CategoryRecord,
    GridRecord,
    PackagePayload,
    PackageRecord,
    SearchHit,
    parse_category,
    parse_grid,
    parse_package,
    parse_search_hit,
)
from bot.core.slugs import checked_key
from bot.djp.retry import RetryPolicy, parse_retry_after
from bot.errors import ApiUnavailable, InvalidRecord, NotFound, SentinelError

log = logging.getLogger(__name__)

USER_AGENT = f"djp-sentinel/{__version__} (+https://github.com/djp-sentinel/djp-sentinel)"
HEADERS = {"Accept": "application/json", "User-Agent": USER_AGENT}
DEFAULT_PAGE_SIZE = 500
DEFAULT_RETRY = RetryPolicy()

Sleep = Callable[[float], Awaitable[object]]
T = TypeVar("T")
Listed = TypeVar("Listed", CategoryRecord, GridRecord)


@dataclass(frozen=True)
class CatalogPage:
    """One page of the package catalog: its packages as received (validated by whoever finds
    them changed, see `PackagePayload`), and the entries without a usable id."""

    payloads: list[PackagePayload]
    invalid: list[InvalidRecord]
    total: int


class DjangoPackagesClient:
    """Reads packages, grids, categories and search results from Django Packages.

    Use `from_settings()` for a client that owns its HTTP connection pool, or pass an
    `httpx.AsyncClient` you manage yourself. `sleep` and `random` are injectable so tests can
    see the backoff waits without waiting. `metrics=False` leaves requests out of the
    Prometheus series (a one-shot command, which serves none, then never imports
    prometheus-client).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str = DEFAULT_DJP_API_URL,
        concurrency: int = 2,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        owns_http: bool = False,
        metrics: bool = True,
    ) -> None:
        self._http = http
        self._count = _count_request if metrics else _uncounted
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._limit = asyncio.Semaphore(concurrency)
        self._retry = retry
        self._sleep = sleep
        self._random = random
        self._owns_http = owns_http
        self.requests_made = 0  # every HTTP request actually sent, retries included

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        metrics: bool = True,
    ) -> Self:
        """A client with its own HTTP pool (closed by `aclose()`), configured from settings."""
        http = httpx.AsyncClient(timeout=settings.http_timeout_seconds, follow_redirects=True)
        return cls(
            http,
            base_url=settings.djp_api_url,
            concurrency=settings.http_concurrency,
            retry=retry,
            sleep=sleep,
            random=random,
            owns_http=True,
            metrics=metrics,
        )

    async def aclose(self) -> None:
        """Close the HTTP pool if this client created it; an injected one is the caller's."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def package(self, key: int | str) -> PackageRecord:
        """One package by id or slug; a key no package can have raises `InvalidSlug` unsent."""
        key = checked_key(key, "package")
        body = await self._get(f"packages/{key}/", _json_object, missing=NotFound("package", key))
        return parse_package(body)

    async def grid(self, key: int | str) -> GridRecord:
        """One grid by id or slug, with the ids of its member packages (keys as `package`)."""
        key = checked_key(key, "grid")
        body = await self._get(f"grids/{key}/", _json_object, missing=NotFound("grid", key))
        return parse_grid(body)

    async def categories(self) -> list[CategoryRecord]:
        """Every category; invalid ones are logged and skipped."""
        return await self._collect("categories/", parse_category)

    async def grids(self) -> list[GridRecord]:
        """Every grid; invalid ones are logged and skipped."""
        return await self._collect("grids/", parse_grid)

    async def search(self, query: str) -> list[SearchHit]:
        """Up to 20 packages and grids matching `query`; invalid hits are logged and skipped."""
        if not query.strip():
            return []
        hits = await self._get("search/", _json_array, params={"q": query})
        return _valid(parse_search_hit, hits)

    async def catalog(self, page_size: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[CatalogPage]:
        """Every package, page by page, each package once even when the list shifts mid-crawl.

        Costs `ceil(count / page_size)` requests when nothing fails. Packages come as
        payloads, validated by the caller once they may have changed; an entry without a usable
        id is reported in its page's `invalid` and does not spoil the others. To stop early,
        close the iterator (`contextlib.aclosing`) so pending page fetches are cancelled.
        """
        seen: set[int] = set()
        async for envelope in self._pages("packages/", page_size):
            payloads, invalid = _partition(PackagePayload.of, envelope.results)
            fresh = [payload for payload in payloads if payload.id not in seen]
            seen.update(payload.id for payload in fresh)
            yield CatalogPage(fresh, invalid, envelope.count)

    async def _collect(self, path: str, parse: Callable[[Any], Listed]) -> list[Listed]:
        """Every valid record of a small list endpoint, newest first, each id once."""
        by_id: dict[int, Listed] = {}
        async for envelope in self._pages(path, DEFAULT_PAGE_SIZE):
            for record in _valid(parse, envelope.results):
                by_id.setdefault(record.id, record)
        return list(by_id.values())

    async def _pages(self, path: str, page_size: int) -> AsyncIterator[_Envelope]:
        """Every page of a list endpoint, in offset order.

        The first request learns `count`; the remaining offsets are then fetched concurrently
        (within the concurrency limit). Records added mid-crawl push older ones to later
        offsets, so when a page reports a larger count the crawl extends to cover it; the
        duplicates this causes are for the caller to drop by id.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        first = await self._page(path, page_size, 0)
        yield first
        covered, total = page_size, first.count
        while covered < total:
            offsets = range(covered, total, page_size)
            tasks = [asyncio.create_task(self._page(path, page_size, o)) for o in offsets]
            try:
                for task in tasks:
                    envelope = await task
                    total = max(total, envelope.count)
                    yield envelope
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            covered += len(offsets) * page_size

    async def _page(self, path: str, limit: int, offset: int) -> _Envelope:
        return await self._get(path, _envelope, params={"limit": limit, "offset": offset})

    async def _get(
        self,
        path: str,
        decode: Callable[[Any], T],
        *,
        params: Mapping[str, str | int] | None = None,
        missing: SentinelError | None = None,
    ) -> T:
        """GET `path` (relative to the base URL) and decode its JSON, retrying what may pass.

        `missing` is raised on a 404. Without it a 404 means the base URL is wrong.
        """
        url = self._base_url + path
        missing = missing or ApiUnavailable(
            f"Django Packages has no {path} at {url}; check DJP_API_URL."
        )
        attempt = 1
        while True:
            try:
                return decode(await self._attempt(url, params, missing))
            except _TransientError as failure:
                if attempt >= self._retry.attempts:
                    raise ApiUnavailable(
                        f"Django Packages kept failing for {path} ({failure}) "
                        f"after {attempt} attempts; try again later."
                    ) from failure
                await self._sleep(self._retry.delay(attempt, failure.retry_after, self._random))
                attempt += 1

    async def _attempt(
        self, url: str, params: Mapping[str, str | int] | None, missing: SentinelError
    ) -> Any:
        async with self._limit:
            self.requests_made += 1
            try:
                response = await self._http.get(url, params=params, headers=HEADERS)
            except httpx.TimeoutException as exc:
                self._count(None)
                raise _TransientError("timed out") from exc
            except httpx.TransportError as exc:
                self._count(None)
                raise _TransientError(f"network error: {str(exc) or type(exc).__name__}") from exc
        self._count(response.status_code)
        return _json_body(response, missing)


def _count_request(status: int | None) -> None:
    """One request in the metrics, by status (`error`: no response); 4xx/5xx are failures."""
    from bot import metrics  # prometheus-client: loaded by a client that counts, when it counts

    label = "error" if status is None else str(status)
    metrics.API_REQUESTS.labels(label).inc()
    if status is None or status >= 400:
        metrics.API_FAILURES.labels(label).inc()


def _uncounted(status: int | None) -> None:
    """A request left out of the metrics."""


@dataclass(frozen=True)
class _Envelope:
    count: int
    results: list[Any]


class _TransientError(Exception):
    """A failure that may pass on another attempt; its text ends up in `ApiUnavailable`."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _json_body(response: httpx.Response, missing: SentinelError) -> Any:
    """The parsed JSON of a response, or the error its status and content call for."""
    status = response.status_code
    is_html = "html" in response.headers.get("content-type", "")
    if status == 404:
        raise missing
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise _TransientError("HTTP 429 Too Many Requests", retry_after)
    if status >= 500 or is_html:
        raise _TransientError(f"HTTP {status} with an HTML page" if is_html else f"HTTP {status}")
    if not response.is_success:
        raise ApiUnavailable(
            f"Django Packages refused {response.url} with HTTP {status}; "
            "check DJP_API_URL, then try again later."
        )
    try:
        return _decode_json(response.content)
    except ValueError as exc:
        raise _TransientError("malformed JSON") from exc


def _decode_json(content: bytes) -> Any:
    """orjson (a catalog page decodes several times faster), or the standard library for what
    orjson refuses and JSON allows (a lone surrogate escape, a UTF-16 body): one odd record
    must fail its own validation, not spoil its page. (orjson reads an integer beyond 64 bits
    as a float, which validation refuses as a count or an id all the same.)"""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def _json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _TransientError("not a JSON object")
    return body


def _json_array(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise _TransientError("not a JSON array")
    return body


def _envelope(body: Any) -> _Envelope:
    count = body.get("count") if isinstance(body, dict) else None
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or not isinstance(results, list):
        raise _TransientError("not a list page with count and results")
    return _Envelope(count, results)


def _partition(parse: Callable[[Any], T], items: list[Any]) -> tuple[list[T], list[InvalidRecord]]:
    valid: list[T] = []
    invalid: list[InvalidRecord] = []
    for item in items:
        try:
            valid.append(parse(item))
        except InvalidRecord as exc:
            invalid.append(exc)
    return valid, invalid


def _valid(parse: Callable[[Any], T], items: list[Any]) -> list[T]:
    valid, invalid = _partition(parse, items)
    for exc in invalid:
        log.warning("Skipped a record from Django Packages: %s", exc)
    return valid
