"""Async client for the Django Packages REST API v4.

One `httpx.AsyncClient`, a concurrency limit around every request, and retries with backoff
for whatever may pass (network errors, timeouts, 5xx, 429, HTML maintenance pages, malformed
JSON). What will not pass is typed: `NotFound` for a 404 (never retried), `ApiUnavailable` once
the attempts run out (or at once for a base URL that is not API v4, or a redirect off it),
`InvalidRecord` for a detail payload that fails validation.

An upstream is not trusted with our resources (`bot.djp.body` caps what a response may
decode to, `bot.djp.paging` bounds a crawl whatever `count` says) nor with where we go:
redirects are followed only within the configured API's origin (`bot.djp.origin`).
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self, TypeVar

import httpx

from bot import __version__
from bot.config import DEFAULT_DJP_API_URL, Settings
from bot.core.plural import counted
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
from bot.core.slugs import Kind, checked_key
from bot.djp.body import ACCEPT_ENCODING, MalformedBody, decode_json, read_body
from bot.djp.lifecycle import HttpxUpstream
from bot.djp.origin import MAX_REDIRECTS, OffOrigin, next_hop
from bot.djp.retry import RetryPolicy, Sleep, Transient, parse_retry_after, retrying
from bot.errors import ApiUnavailable, InvalidRecord, NotFound, SentinelError

log = logging.getLogger(__name__)

USER_AGENT = f"djp-sentinel/{__version__} (+https://github.com/djp-sentinel/djp-sentinel)"
HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": ACCEPT_ENCODING,
    "User-Agent": USER_AGENT,
}
DEFAULT_PAGE_SIZE = 500
#: The most records a list endpoint is believed to hold (the catalog is about 6,000).
MAX_LISTED = 50_000
#: Page requests scheduled ahead of the one being read (the semaphore bounds those sent).
PAGE_WINDOW = 8
#: What API v4's root lists; a base URL whose root does not is another API.
V4_ROOT = frozenset({"packages", "grids", "categories", "search"})
DEFAULT_RETRY = RetryPolicy()

T = TypeVar("T")
Listed = TypeVar("Listed", CategoryRecord, GridRecord)


@dataclass(frozen=True)
class CatalogPage:
    """One page of the package catalog: its packages as received (validated by whoever finds
    them changed, see `PackagePayload`), and the entries without a usable id."""

    payloads: list[PackagePayload]
    invalid: list[InvalidRecord]
    total: int  # the count the server claims, within `MAX_LISTED`


class DjangoPackagesClient(HttpxUpstream):
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
        super().__init__(http, owns_http=owns_http)
        self._count = _count_request if metrics else _uncounted
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._limit = asyncio.Semaphore(concurrency)
        self._retry = retry
        self._sleep = sleep
        self._random = random
        self.requests_made = 0  # every HTTP request actually sent, retries included
        self._is_v4: bool | None = None  # whether the base URL's root is API v4's, once asked

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
        http = httpx.AsyncClient(timeout=settings.http_timeout_seconds)
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

    async def package(self, key: int | str) -> PackageRecord:
        """One package by id or slug; a key no package can have raises `InvalidSlug` unsent."""
        return await self._validated(parse_package, await self._detail("packages", "package", key))

    async def grid(self, key: int | str) -> GridRecord:
        """One grid by id or slug, with the ids of its member packages (keys as `package`)."""
        return await self._validated(parse_grid, await self._detail("grids", "grid", key))

    async def _detail(self, path: str, kind: Kind, key: int | str) -> dict[str, Any]:
        """A detail payload by id or slug. Slugs upstream are matched exactly and written in
        lower case, so a slug typed in another case is asked again in lower case."""
        key = checked_key(key, kind)
        try:
            return await self._get(f"{path}/{key}/", _json_object, missing=NotFound(kind, key))
        except NotFound:
            if isinstance(key, int) or key == key.lower():
                raise
        return await self._get(f"{path}/{key.lower()}/", _json_object, missing=NotFound(kind, key))

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
            yield CatalogPage(fresh, invalid, min(envelope.count, MAX_LISTED))

    async def _collect(self, path: str, parse: Callable[[Any], Listed]) -> list[Listed]:
        """Every valid record of a small list endpoint, newest first, each id once."""
        by_id: dict[int, Listed] = {}
        async for envelope in self._pages(path, DEFAULT_PAGE_SIZE):
            for record in _valid(parse, envelope.results):
                by_id.setdefault(record.id, record)
        return list(by_id.values())

    async def _pages(self, path: str, page_size: int) -> AsyncIterator[_Envelope]:
        """Every page of a list endpoint, in offset order.

        Pages step by what the server returned on the first page, not by what was asked: a
        server may cap `limit` (DRF's `max_limit`). The first request learns `count` (clamped
        to `MAX_LISTED`); later offsets are fetched concurrently, at most `PAGE_WINDOW`
        scheduled at a time, until `count` is covered or a page comes back empty, so a count
        that lies costs a few requests, not one task per page it claims. Records added
        mid-crawl push older ones to later offsets: a page reporting a larger count extends
        the crawl, and the duplicates this causes are for the caller to drop by id. A crawl
        that comes back short of `count` is logged as a warning.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        first = await self._page(path, page_size, 0)
        yield first
        step, total = len(first.results), self._clamped(path, first.count)
        received = step
        window: deque[asyncio.Task[_Envelope]] = deque()
        offset = step
        try:
            while step:
                while len(window) < PAGE_WINDOW and offset < total:
                    window.append(asyncio.create_task(self._page(path, page_size, offset)))
                    offset += step
                if not window:
                    break
                envelope = await window.popleft()
                total = max(total, min(envelope.count, MAX_LISTED))
                received += len(envelope.results)
                yield envelope
                if not envelope.results:  # past the end: `count` promised more than there is
                    break
        finally:
            for task in window:
                task.cancel()
            await asyncio.gather(*window, return_exceptions=True)
        if received < total:
            log.warning(
                "Django Packages listed %s at %s but served %d: the crawl is short "
                "(records removed mid-crawl, or a server that pages differently).",
                counted(total, "record"),
                path,
                received,
            )

    @staticmethod
    def _clamped(path: str, count: int) -> int:
        """`count` within `MAX_LISTED`, warning when a server claims more."""
        if count > MAX_LISTED:
            log.warning(
                "Django Packages claims %d records at %s; reading at most %d.",
                count,
                path,
                MAX_LISTED,
            )
        return min(count, MAX_LISTED)

    async def _page(self, path: str, limit: int, offset: int) -> _Envelope:
        return await self._get(path, _envelope, params={"limit": limit, "offset": offset})

    async def _validated(self, parse: Callable[[dict[str, Any]], T], body: dict[str, Any]) -> T:
        """A detail payload validated; one that does not validate may mean a base URL that
        serves another API's records (v3), which is then named as such."""
        try:
            return parse(body)
        except InvalidRecord:
            await self._require_v4()
            raise

    async def _get(
        self,
        path: str,
        decode: Callable[[Any], T],
        *,
        params: Mapping[str, str | int] | None = None,
        missing: SentinelError | None = None,
    ) -> T:
        """GET `path` (relative to the base URL) and decode its JSON, retrying what may pass.

        `missing` is raised on a 404. Without it a 404 means the base URL is wrong. Answers
        that may mean a base URL that is not API v4 (an HTML 404, a 410, JSON of another
        shape) are checked against the API's root once, and named as such.
        """
        url = self._base_url + path
        missing = missing or ApiUnavailable(
            f"Django Packages has no {path} at {url}; check DJP_API_URL."
        )

        async def decoded() -> T:
            try:
                return decode(await self._attempt(url, params))
            except _TransientError as failure:
                if failure.off_shape:
                    await self._require_v4()
                raise

        try:
            return await retrying(
                decoded,
                self._retry,
                sleep=self._sleep,
                random=self._random,
                upstream="Django Packages",
                asked=path,
                advice="try again later",
            )
        except _Refused as refused:
            if refused.off_route:
                await self._require_v4()
            raise (missing if refused.status == 404 else refused.error) from None

    async def _require_v4(self) -> None:
        """Raise `ApiUnavailable` naming the base URL if its root is not API v4's."""
        if self._is_v4 is None:
            self._is_v4 = await self._answers_as_v4()
        if self._is_v4 is False:
            raise ApiUnavailable(
                f"DJP_API_URL {self._base_url} is not the Django Packages API v4 (its root "
                f"does not list {', '.join(sorted(V4_ROOT))}); set it to {DEFAULT_DJP_API_URL} "
                "or a mirror of it."
            )

    async def _answers_as_v4(self) -> bool | None:
        """Whether the base URL's root lists API v4's endpoints; None if it cannot be told."""
        try:
            root = await self._attempt(self._base_url, None)
        except _Refused as refused:
            return False if refused.off_route else None
        except _TransientError as failure:
            return False if failure.off_shape or failure.html else None
        except ApiUnavailable:
            return None
        return isinstance(root, dict) and root.keys() >= V4_ROOT

    async def _attempt(self, url: str, params: Mapping[str, str | int] | None) -> Any:
        """One request (following redirects within the API's origin) and its JSON."""
        target = httpx.URL(url, params=params)
        async with self._limit:
            for _ in range(MAX_REDIRECTS + 1):
                self.requests_made += 1
                try:
                    async with self._http.stream(
                        "GET", target, headers=HEADERS, follow_redirects=False
                    ) as response:
                        self._count(response.status_code)
                        if not response.is_redirect:
                            return await _json_body(response)
                        target = self._redirect(target, response)
                except httpx.TimeoutException as exc:
                    self._count(None)
                    raise _TransientError("timed out") from exc
                except httpx.TransportError as exc:
                    self._count(None)
                    reason = str(exc) or type(exc).__name__
                    raise _TransientError(f"network error: {reason}") from exc
        raise ApiUnavailable(
            f"Django Packages redirected {url} more than {MAX_REDIRECTS} times; check DJP_API_URL."
        )

    def _redirect(self, source: httpx.URL, response: httpx.Response) -> httpx.URL:
        """Where a redirect leads, if it may be followed; `ApiUnavailable` if not."""
        try:
            return next_hop(httpx.URL(self._base_url), source, response.headers.get("location", ""))
        except OffOrigin as exc:
            raise ApiUnavailable(f"Django Packages {exc}; check DJP_API_URL.") from None


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


class _TransientError(Transient):
    """A `Transient` failure of Django Packages, with what it may say about the base URL:
    `off_shape`, JSON of another shape than asked for, and `html`, an HTML page, may both mean
    that the base URL serves another API."""

    def __init__(
        self,
        reason: str,
        retry_after: float | None = None,
        *,
        off_shape: bool = False,
        html: bool = False,
    ) -> None:
        super().__init__(reason, retry_after)
        self.off_shape = off_shape
        self.html = html


class _Refused(Exception):
    """A 4xx answer that will not pass (a 404 included): `error` unless the base URL is
    not API v4, which `off_route` (a route that does not exist: an HTML 404, a 410) hints."""

    def __init__(self, status: int, error: SentinelError, *, off_route: bool) -> None:
        super().__init__(str(error))
        self.status = status
        self.error = error
        self.off_route = off_route


async def _json_body(response: httpx.Response) -> Any:
    """The parsed JSON of a streamed response, or the error its status and content call for.

    A JSON 404 is Django Packages saying "no such record"; an HTML one, a route that does
    not exist (perhaps a base URL that is not the API).
    """
    status = response.status_code
    is_html = "html" in response.headers.get("content-type", "")
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise _TransientError("HTTP 429 Too Many Requests", retry_after)
    if status >= 500 or (is_html and status < 400):
        reason = f"HTTP {status} with an HTML page" if is_html else f"HTTP {status}"
        raise _TransientError(reason, html=is_html)
    if not response.is_success:
        error = ApiUnavailable(
            f"Django Packages refused {response.url} with HTTP {status}; "
            "check DJP_API_URL, then try again later."
        )
        raise _Refused(status, error, off_route=status == 410 or (status == 404 and is_html))
    try:
        return decode_json(await read_body(response))
    except MalformedBody as exc:
        raise _TransientError(str(exc)) from exc


def _json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _TransientError("not a JSON object", off_shape=True)
    return body


def _json_array(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise _TransientError("not a JSON array", off_shape=True)
    return body


def _envelope(body: Any) -> _Envelope:
    count = body.get("count") if isinstance(body, dict) else None
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or not isinstance(results, list):
        raise _TransientError("not a list page with count and results", off_shape=True)
    return _Envelope(max(count, 0), results)


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
