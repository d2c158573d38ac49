"""A loopback fake of the Django Packages API v4: a real aiohttp server on 127.0.0.1.

It answers like DRF does upstream (limit/offset envelopes ordered by `-id`, id-or-slug detail
lookups, JSON 404s for unknown objects and an HTML 404 for unknown routes), and lets tests
change records between calls, corrupt them, add latency and inject faults::

    async with FakeDjangoPackages() as api:
        api.update_package(265, pypi_version="1.0.1")
        api.inject("503-html", times=2, path="/packages/")
        ...  # point a client at api.base_url

It can also play a hostile or misconfigured upstream: a server capping `limit` (`max_limit`),
a lying `count` (`claimed_count`), decompression bombs, JSON nested past any parser's limit,
redirects elsewhere (faults), and the site's root, API v3 and the retired API v1 beside v4
(`site_url`).

Standalone: ``python -m tests.fakes.djp_api --port 8765 [--synthetic N] [--latency 0.1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import functools
import json
import random
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Self, get_args

from aiohttp import web

from tests.fakes.djp_data import (
    API_PATH,
    Content,
    Payload,
    grid_ids,
    link,
    parse_link,
    seeded,
    synthetic_catalog,
    synthetic_content,
)
from tests.fakes.standalone import serve_until_interrupted

__all__ = [
    "Content",
    "FakeDjangoPackages",
    "Fault",
    "LoggedRequest",
    "ServerFault",
    "seeded",
    "synthetic_catalog",
    "synthetic_content",
]

#: What an outage or an overloaded server answers: a later request may well succeed.
ServerFault = Literal[
    "500",
    "502",
    "503-html",
    "html-200",
    "hang",
    "malformed",
    "truncated",
    "429",
    "reset",
]
#: Answers built to harm a client: a body that inflates, or nests, past any bound, a redirect.
HostileFault = Literal["gzip-bomb", "deep-json", "redirect"]
Fault = Literal[ServerFault, HostileFault]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

HOST = "127.0.0.1"
DEFAULT_LIMIT = 20
SEARCH_LIMIT = 20

_MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Down for maintenance</title></head>"
    "<body><h1>Django Packages is down for maintenance</h1>"
    "<p>We'll be back shortly.</p></body></html>"
)
_HTML_PAGES = {
    404: "<!DOCTYPE html><html><head><title>Page not found</title></head>"
    "<body><h1>Page not found (404)</h1></body></html>",
    500: "<!DOCTYPE html><html><body><h1>Server Error (500)</h1></body></html>",
    502: "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center></body></html>",
    410: "<!DOCTYPE html><html><body><h1>Gone</h1><p>API v1 has been retired.</p></body></html>",
}
_HOME_PAGE = (
    "<!DOCTYPE html><html><head><title>Django Packages : Reusable apps, sites and tools "
    "directory</title></head><body><h1>Django Packages</h1></body></html>"
)


@functools.cache
def gzipped_spaces(size: int) -> bytes:
    """A gzip body of `size` spaces: a few hundred KiB per GiB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1024 * 1024)
    whole, rest = divmod(size, len(block))
    parts = [packer.compress(block) for _ in range(whole)]
    return b"".join([*parts, packer.compress(b" " * rest), packer.flush()])


class LoggedRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, str]


@dataclass
class _Injection:
    fault: Fault
    times: int
    path: str | None
    retry_after: str
    location: str


class FakeDjangoPackages:
    """The fake API. Its stores (`packages`, `grids`, `categories`) are served live."""

    def __init__(
        self,
        content: Content | None = None,
        *,
        latency: float = 0.0,
        hang_seconds: float = 30.0,
        port: int = 0,
    ) -> None:
        content = content or seeded()
        self.packages: dict[int, Payload] = content.packages
        self.grids: dict[int, Payload] = content.grids
        self.categories: dict[int, Payload] = content.categories
        self.latency = latency
        """Seconds added to every response."""
        self.hang_seconds = hang_seconds
        """How long a "hang" fault stalls (cut short when the server closes)."""
        self.link_query = ""
        """Appended to every served hyperlink, e.g. "?format=api" to mimic the captures."""
        self.requests: list[LoggedRequest] = []
        self.request_headers: list[dict[str, str]] = []
        """The headers of each request in `requests`, in the same order."""
        self.in_flight = 0
        self.max_in_flight = 0
        self.max_limit: int | None = None
        """Like DRF's `max_limit`: a larger `limit` asked for is served as this many."""
        self.claimed_count: int | None = None
        """Served as every list's `count` instead of the real one (a lying upstream)."""
        self.bomb_bytes = 64 * 1024 * 1024
        """What a "gzip-bomb" body inflates to."""
        self._port = port
        self._faults: list[_Injection] = []
        self._originals: dict[int, Payload] = {}
        self._grids_without_members: set[int] = set()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._base_url = ""

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """E.g. ``http://127.0.0.1:43210/api/v4/``; available once started."""
        if not self._base_url:
            raise RuntimeError("the fake Django Packages API is not running")
        return self._base_url

    async def start(self) -> None:
        self._closing.clear()
        self._runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, self._port).start()
        port = self._runner.addresses[0][1]
        self._base_url = f"http://{HOST}:{port}{API_PATH}"

    async def close(self) -> None:
        self._closing.set()  # releases hanging and slow responses
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- request log --------------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        return len(self.requests)

    def reset_log(self) -> None:
        """Forget the requests seen so far (and the in-flight high-water mark)."""
        self.requests.clear()
        self.request_headers.clear()
        self.max_in_flight = self.in_flight

    # -- content controls ---------------------------------------------------------------------

    def add_package(self, payload: Payload) -> None:
        self.packages[payload["id"]] = copy.deepcopy(payload)

    def update_package(self, package_id: int, **fields: Any) -> None:
        self.packages[package_id].update(copy.deepcopy(fields))

    def remove_package(self, package_id: int) -> None:
        del self.packages[package_id]
        self._originals.pop(package_id, None)

    def remove_grid(self, grid_id: int) -> None:
        self.set_grid_members(grid_id, [])
        del self.grids[grid_id]

    def set_grid_members(self, grid_id: int, package_ids: list[int]) -> None:
        """Make exactly these packages the grid's members, by editing their `grids` links."""
        members = set(package_ids)
        for package_id, package in self.packages.items():
            others = [g for g in grid_ids(package) if g != grid_id]
            wanted = [*others, grid_id] if package_id in members else others
            package["grids"] = [link("grids", g) for g in wanted]

    def hide_grid_members(self, grid_id: int, hidden: bool = True) -> None:
        """Serve the grid without its `packages` list (until called with `hidden=False`)."""
        if hidden:
            self._grids_without_members.add(grid_id)
        else:
            self._grids_without_members.discard(grid_id)

    def corrupt_package(self, package_id: int, field: str, value: Any) -> None:
        """Serve `value` (typically of the wrong type) for one field until restored."""
        self._keep_original(package_id)
        self.packages[package_id][field] = value

    def drop_field(self, package_id: int, field: str) -> None:
        """Serve the package without `field` until restored."""
        self._keep_original(package_id)
        del self.packages[package_id][field]

    def restore_package(self, package_id: int) -> None:
        """Undo `corrupt_package` / `drop_field` on this package."""
        self.packages[package_id] = self._originals.pop(package_id)

    def _keep_original(self, package_id: int) -> None:
        self._originals.setdefault(package_id, copy.deepcopy(self.packages[package_id]))

    def drift(self, fraction: float, seed: int = 0) -> list[int]:
        """Move a reproducible `fraction` of packages on, as a day upstream would.

        Each chosen package gets a new patch release, a few more stars and a commit this
        week. Returns the ids changed. Also reachable as `POST /_fake/drift?fraction=&seed=`
        for benchmarks that run the fake in another process.
        """
        rng = random.Random(seed)
        chosen = rng.sample(sorted(self.packages), round(len(self.packages) * fraction))
        for package_id in chosen:
            package = self.packages[package_id]
            package["pypi_version"] = f"{package_id}.{rng.randint(0, 99)}.{rng.randint(1, 99)}"
            package["repo_watchers"] = package["repo_watchers"] + rng.randint(1, 9)
            if package["commits_over_52"]:
                package["commits_over_52"] = [*package["commits_over_52"][1:], 1]
        return chosen

    # -- faults -------------------------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        times: int = 1,
        path: str | None = None,
        *,
        retry_after: int | str = 1,
        location: str = "",
    ) -> None:
        """Answer the next `times` requests with `fault`.

        `path`, if given, restricts the fault to requests whose path and query string contain
        it, e.g. "/grids/" or "offset=500".

        Faults: "500", "502" (HTML error pages), "503-html" (maintenance page, 503),
        "html-200" (the same page with 200), "hang" (stall past any client timeout),
        "malformed" (not JSON), "truncated" (the real body cut in half), "429" (with
        `Retry-After: retry_after`, seconds or an HTTP-date), "reset" (drop the connection
        without answering), "gzip-bomb" (a small gzip body inflating to `bomb_bytes`),
        "deep-json" (JSON nested 100,000 deep), "redirect" (a 302 to `location`). Faults
        queue up and are used in the order injected.
        """
        if fault not in get_args(Fault):
            raise ValueError(f"unknown fault {fault!r}; expected one of {get_args(Fault)}")
        self._faults.append(_Injection(fault, times, path, str(retry_after), location))

    def _take_fault(self, path_qs: str) -> _Injection | None:
        for injection in self._faults:
            if injection.path is None or injection.path in path_qs:
                injection.times -= 1
                if injection.times <= 0:
                    self._faults.remove(injection)
                return injection
        return None

    # -- HTTP ---------------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._instrument])
        routes = {
            "": self._root,
            "packages/": self._package_list,
            "packages/{key}/": self._package_detail,
            "grids/": self._grid_list,
            "grids/{key}/": self._grid_detail,
            "categories/": self._category_list,
            "categories/{key}/": self._category_detail,
            "search/": self._search,
        }
        for path, handler in routes.items():
            app.router.add_get(API_PATH + path, handler)
        app.router.add_get("/", self._home)
        app.router.add_get("/api/v3/packages/", self._v3_package_list)
        app.router.add_get("/api/v1/{tail:.*}", self._v1_gone)
        app.router.add_post("/_fake/drift", self._drift)
        return app

    async def _drift(self, request: web.Request) -> web.Response:
        fraction = float(request.query.get("fraction", "0.05"))
        changed = self.drift(fraction, int(request.query.get("seed", "0")))
        return _json({"changed": len(changed)})

    @web.middleware
    async def _instrument(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Log, count in-flight requests, add latency, and play any injected fault."""
        self.requests.append(LoggedRequest(request.method, request.path, dict(request.query)))
        self.request_headers.append(dict(request.headers))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self._pause(self.latency)
            injection = self._take_fault(request.path_qs)
            if injection is None:
                return await _answer(request, handler)
            return await self._play(injection, request, handler)
        finally:
            self.in_flight -= 1

    async def _play(
        self, injection: _Injection, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        match injection.fault:
            case "500" | "502":
                status = int(injection.fault)
                return web.Response(
                    status=status, text=_HTML_PAGES[status], content_type="text/html"
                )
            case "503-html":
                return web.Response(status=503, text=_MAINTENANCE_PAGE, content_type="text/html")
            case "html-200":
                return web.Response(status=200, text=_MAINTENANCE_PAGE, content_type="text/html")
            case "429":
                return web.Response(
                    status=429,
                    text='{"detail":"Request was throttled."}',
                    content_type="application/json",
                    headers={"Retry-After": injection.retry_after},
                )
            case "malformed":
                return _json_text(200, "{'count': 1, 'results': [{'id': 265,}]}")
            case "truncated":
                response = await _answer(request, handler)
                assert isinstance(response, web.Response)
                assert isinstance(response.body, bytes)
                half = response.body[: len(response.body) // 2]
                return _json_text(response.status, half.decode(errors="ignore"))
            case "hang":
                await self._pause(self.hang_seconds)
                return await _answer(request, handler)
            case "reset":
                assert request.transport is not None
                request.transport.abort()
                return web.Response()  # never sent: the connection is gone
            case "gzip-bomb":
                return web.Response(
                    body=gzipped_spaces(self.bomb_bytes),
                    content_type="application/json",
                    headers={"Content-Encoding": "gzip"},
                )
            case "deep-json":
                return _json_text(200, "[" * 100_000 + "]" * 100_000)
            case "redirect":
                raise web.HTTPFound(injection.location)

    async def _pause(self, seconds: float) -> None:
        """Sleep, but no longer than the server stays open."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    async def _root(self, request: web.Request) -> web.Response:
        return _json({kind: self.base_url + kind + "/" for kind in _ROOT_KINDS})

    @property
    def site_url(self) -> str:
        """The site's root (a web page, not the API), e.g. ``http://127.0.0.1:43210/``."""
        return self.base_url.removesuffix(API_PATH) + "/"

    async def _home(self, request: web.Request) -> web.Response:
        return web.Response(text=_HOME_PAGE, content_type="text/html")

    async def _v1_gone(self, request: web.Request) -> web.Response:
        return web.Response(status=410, text=_HTML_PAGES[410], content_type="text/html")

    async def _v3_package_list(self, request: web.Request) -> web.Response:
        """API v3's envelope (`meta`, `objects`), which v4's client must not take for v4's."""
        limit = _query_int(request, "limit", DEFAULT_LIMIT, minimum=1)
        offset = _query_int(request, "offset", 0, minimum=0)
        packages = sorted(self.packages.values(), key=lambda p: str(p.get("title", "")))
        meta = {"limit": limit, "offset": offset, "total_count": len(packages)}
        return _json({"meta": meta, "objects": packages[offset : offset + limit]})

    async def _package_list(self, request: web.Request) -> web.Response:
        return self._paged(request, [self._served_package(p) for p in _newest_first(self.packages)])

    async def _package_detail(self, request: web.Request) -> web.Response:
        package = _lookup(self.packages, request.match_info["key"], by_slug=True)
        if package is None:
            return _no_match("Package")
        return _json(self._served_package(package))

    async def _grid_list(self, request: web.Request) -> web.Response:
        members = self._members_by_grid()
        served = [self._served_grid(g, members.get(g["id"], [])) for g in _newest_first(self.grids)]
        return self._paged(request, served)

    async def _grid_detail(self, request: web.Request) -> web.Response:
        grid = _lookup(self.grids, request.match_info["key"], by_slug=True)
        if grid is None:
            return _no_match("Grid")
        return _json(self._served_grid(grid, self._members_by_grid().get(grid["id"], [])))

    async def _category_list(self, request: web.Request) -> web.Response:
        return self._paged(request, _newest_first(self.categories))

    async def _category_detail(self, request: web.Request) -> web.Response:
        category = _lookup(self.categories, request.match_info["key"], by_slug=False)
        if category is None:
            return _no_match("Category")
        return _json(category)

    async def _search(self, request: web.Request) -> web.Response:
        """Case-insensitive substring match on slug or title; exact slugs first, then by title."""
        query = request.query.get("q", "").strip().casefold()
        if not query:
            return _json([])
        hits = [self._package_hit(p) for p in self.packages.values()]
        hits += [_hit(g, "grid", g.get("description", "")) for g in self.grids.values()]
        matching = [
            hit
            for hit in hits
            if query in str(hit["slug"]).casefold() or query in str(hit["title"]).casefold()
        ]
        matching.sort(key=lambda hit: (str(hit["slug"]).casefold() != query, str(hit["title"])))
        return _json(matching[:SEARCH_LIMIT])

    def _paged(self, request: web.Request, items: list[Payload]) -> web.Response:
        """DRF's LimitOffsetPagination: absolute next/previous links keeping other params."""
        limit = _query_int(request, "limit", DEFAULT_LIMIT, minimum=1)
        if self.max_limit is not None:
            limit = min(limit, self.max_limit)
        offset = _query_int(request, "offset", 0, minimum=0)
        url = request.url.update_query(limit=limit)
        next_url = url.update_query(offset=offset + limit) if offset + limit < len(items) else None
        if offset <= 0:
            previous = None
        elif offset - limit <= 0:
            previous = url.without_query_params("offset")
        else:
            previous = url.update_query(offset=offset - limit)
        return _json(
            {
                "count": len(items) if self.claimed_count is None else self.claimed_count,
                "next": str(next_url) if next_url else None,
                "previous": str(previous) if previous else None,
                "results": items[offset : offset + limit],
            }
        )

    def _served_package(self, package: Payload) -> Payload:
        served = dict(package)
        for key in ("category", "grids"):
            if key in served:
                served[key] = self._relink(served[key])
        return served

    def _members_by_grid(self) -> dict[int, list[Payload]]:
        """Each grid's member packages, from one pass over the packages' `grids` links."""
        members: dict[int, list[Payload]] = {}
        for package in self.packages.values():
            for grid_id in set(grid_ids(package)):
                members.setdefault(grid_id, []).append(package)
        return members

    def _served_grid(self, grid: Payload, members: list[Payload]) -> Payload:
        """A grid with its members' links, ordered by title as upstream orders them."""
        if grid.get("id") in self._grids_without_members:
            return dict(grid)
        ordered = sorted(members, key=lambda p: (str(p.get("title", "")).casefold(), p["id"]))
        return {**grid, "packages": [self._link("packages", p["id"]) for p in ordered]}

    def _package_hit(self, package: Payload) -> Payload:
        """A `/search/` item for a package (participants as one comma-separated string)."""
        category = parse_link(package.get("category"))
        participants = package.get("participants")
        stars = package.get("repo_watchers", 0)
        return {
            **_hit(package, "package", package.get("repo_description", "")),
            "category": self.categories.get(category[1], {}).get("title", "") if category else "",
            "repo_watchers": stars,
            "repo_forks": package.get("repo_forks", 0),
            "score": stars,
            "participants": ",".join(participants) if isinstance(participants, list) else "",
            "last_committed": package.get("last_updated"),
        }

    def _relink(self, value: Any) -> Any:
        """Hyperlinks rebuilt under this server's base URL; anything else left as it is."""
        if isinstance(value, list):
            return [self._relink(item) for item in value]
        parsed = parse_link(value)
        return self._link(*parsed) if parsed else value

    def _link(self, kind: str, record_id: int) -> str:
        return f"{self.base_url}{kind}/{record_id}/{self.link_query}"


_ROOT_KINDS = ("packages", "search", "grids", "categories")


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler's response; Django's HTML 404 page for routes that do not exist."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return web.Response(status=404, text=_HTML_PAGES[404], content_type="text/html")


def _hit(record: Payload, item_type: str, description: Any) -> Payload:
    """A `/search/` item shaped like upstream's SearchV3Serializer, with a grid's zeros."""
    title, slug = record.get("title", ""), record.get("slug", "")
    page = "packages/p" if item_type == "package" else "grids/g"
    return {
        "description": description,
        "title": title,
        "title_no_prefix": title,
        "slug_no_prefix": slug,
        "clean_title": title,
        "absolute_url": f"/{page}/{slug}/",
        "created": record.get("created"),
        "modified": record.get("modified"),
        "weight": 50,
        "item_type": item_type,
        "slug": slug,
        "category": "",
        "repo_watchers": 0,
        "repo_forks": 0,
        "pypi_downloads": 0,
        "score": 0,
        "usage": 0,
        "participants": "",
        "last_committed": None,
        "last_released": None,
    }


def _newest_first(store: dict[int, Payload]) -> list[Payload]:
    return [store[record_id] for record_id in sorted(store, reverse=True)]


def _lookup(store: dict[int, Payload], key: str, *, by_slug: bool) -> Payload | None:
    """All digits: by primary key; otherwise by slug where the endpoint allows it."""
    if key.isdigit():
        return store.get(int(key))
    if not by_slug:
        return None
    return next((record for record in store.values() if record.get("slug") == key), None)


def _query_int(request: web.Request, name: str, default: int, *, minimum: int) -> int:
    """A query parameter as DRF reads it: anything missing, bad or too small is the default."""
    try:
        value = int(request.query.get(name, ""))
    except ValueError:
        return default
    return value if value >= minimum else default


def _json(data: Any, status: int = 200) -> web.Response:
    return _json_text(status, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def _json_text(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="application/json")


def _no_match(model: str) -> web.Response:
    return _json({"detail": f"No {model} matches the given query."}, status=404)


# -- standalone ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Django Packages API v4 locally.")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any)")
    parser.add_argument("--synthetic", type=int, metavar="N", help="serve N generated packages")
    parser.add_argument("--seed", type=int, default=0, help="random seed for --synthetic")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per response")
    args = parser.parse_args(argv)
    content = synthetic_content(args.synthetic, args.seed) if args.synthetic else None
    api = FakeDjangoPackages(content, latency=args.latency, port=args.port)
    serve_until_interrupted(_serve(api), f"port {args.port}")


async def _serve(api: FakeDjangoPackages) -> None:
    async with api:
        banner = f"Fake Django Packages: export DJP_API_URL={api.base_url} (Ctrl+C to stop)"
        print(banner, flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    main()
