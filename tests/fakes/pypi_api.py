"""Loopback fakes of PyPI's JSON API and endoflife.date: real aiohttp servers on 127.0.0.1.

Both serve the real captures in `tests/data/upstreams/` (copied from the shared captures, see
their `SOURCES.md`) and mutations of them, with a strong ETag per body and `304 Not Modified`
for a matching `If-None-Match`, as both upstreams do::

    async with FakePypi() as pypi:
        pypi.serve_as("django-flatblocks", "djangorestframework")  # a capture under a new name
        pypi.publish("django-flatblocks", "3.14.0", django=["3.2", "4.0", "4.1"])
        pypi.yank("django-flatblocks", "3.14.0", "Broken wheel")
        pypi.inject("500", times=3)

Unknown projects get PyPI's 404 (`{"message": "Not Found"}`); a fault answers the next
`times` requests instead of the document (the journal's too, unless the fault is about JSON).

Every change is written to PyPI's journal as PyPI writes it (`tests.fakes.pypi_journal`), each
project's `last_serial` (in its JSON and the `X-PyPI-Last-Serial` header) follows it, and
`POST /pypi` answers the journal's XML-RPC methods; `inject_journal` makes it fail alone, and
`serve_stale` makes a project answer as it was before its latest change (a cache behind)::

        pypi.inject_journal("fault")
        pypi.serve_stale("django-flatblocks")

Standalone: ``python -m tests.fakes.pypi_api --port 8766`` serves the captures and the seeded
Django Packages fake's projects (`FakePypi.SEEDED_CATALOG`), with endoflife.date on the next
port. For benchmarks, ``--synthetic`` answers for any project name with the
django-crispy-forms capture renamed, and ``POST /_fake/drift?fraction=&seed=`` publishes a new
release of that fraction of the projects asked for so far, and `noise` journal entries for
projects nobody asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import hashlib
import json
import random
import re
import xmlrpc.client
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Literal, NamedTuple, Self

from aiohttp import web

from tests.fakes.djp_api import gzipped_spaces
from tests.fakes.pypi_journal import JOURNAL_LIMIT, FakeJournal, method_response
from tests.fakes.standalone import serve_until_interrupted

HOST = "127.0.0.1"
UPSTREAMS = Path(__file__).resolve().parent.parent / "data" / "upstreams"
Payload = dict[str, Any]
Fault = Literal[
    "500",
    "503",
    "malformed",
    "not-json-object",
    "hang",
    "404",
    "gzip-bomb",
    "deep-json",
    "redirect",
]
#: The faults of any answer, the journal's too (the others are about JSON: an XML-RPC call
#: leaves them to the next request for a project).
_ANY_ANSWER: frozenset[Fault] = frozenset({"500", "503", "hang", "404", "gzip-bomb", "redirect"})
JournalFault = Literal["500", "405", "fault", "malformed", "doctype", "not-entries"]
#: A DOCTYPE declaring entities that expand a billion-fold ("billion laughs").
_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    + "]><methodResponse><params><param><value><string>&lol9;</string></value></param>"
    "</params></methodResponse>"
)
_DJANGO = re.compile(r"^Framework :: Django :: \d+\.\d+$")


def capture(relative: str) -> Any:
    """A real capture under `tests/data/upstreams/`, decoded."""
    return json.loads((UPSTREAMS / relative).read_text())


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class Served(NamedTuple):
    path: str
    if_none_match: str | None
    status: int
    #: The XML-RPC method a `POST` called (None for a `GET`).
    rpc: str | None = None


Tagged = tuple[str, Any, dict[str, str]]
"""A document's ETag, its body (JSON text, or a value to serialise), and headers to send."""


class _JsonFake:
    """What both fakes share: the server, the ETags, the request log and injected faults."""

    def __init__(self, prefix: str, *, latency: float = 0.0, port: int = 0) -> None:
        self.prefix = prefix
        self.latency = latency
        self._port = port
        self.served: list[Served] = []
        self.user_agents: set[str] = set()
        self._faults: list[Fault] = []
        self.bomb_bytes = 64 * 1024 * 1024
        """What a "gzip-bomb" body inflates to."""
        self.redirect_to = ""
        """Where a "redirect" fault sends the request (a 302)."""
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._base_url = ""

    @property
    def base_url(self) -> str:
        if not self._base_url:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._base_url

    async def __aenter__(self) -> Self:
        app = web.Application()
        self.add_routes(app)
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, self._port).start()
        self._base_url = f"http://{HOST}:{self._runner.addresses[0][1]}{self.prefix}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def inject(self, fault: Fault, times: int = 1) -> None:
        """Answer the next `times` requests with `fault` instead of the document: "500",
        "503", "malformed" (cut-off JSON), "not-json-object", "hang" (until the server
        closes), "404", "gzip-bomb" (a small gzip body inflating to `bomb_bytes`),
        "deep-json" (nested 100,000 deep) or "redirect" (a 302 to `redirect_to`)."""
        self._faults += [fault] * times

    def heal(self) -> None:
        self._faults.clear()

    def requests_for(self, path_part: str) -> list[Served]:
        return [s for s in self.served if path_part in s.path]

    def add_routes(self, app: web.Application) -> None:
        """Routes besides the documents (test controls)."""

    def document(self, path: str) -> Any | None:
        raise NotImplementedError

    def tagged(self, path: str) -> Tagged | None:
        """The ETag, document and headers at `path` (the ETag hashes the body), or None."""
        return self.tag(self.document(path))

    def tag(self, body: Any) -> Tagged | None:
        if body is None:
            return None
        text = json.dumps(body)
        return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"', text, self.headers_of(body)

    def headers_of(self, body: Any) -> dict[str, str]:
        """Headers a document's answer carries besides its ETag (a 304's too)."""
        return {}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.user_agents.add(request.headers.get("User-Agent", ""))
        if_none_match = request.headers.get("If-None-Match")
        response = await self._answer(request.path, if_none_match)
        self.served.append(Served(request.path, if_none_match, response.status))
        return response

    async def _answer(self, path: str, if_none_match: str | None) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        if self._faults:
            return await self._fault(self._faults.pop(0))
        if not path.startswith(self.prefix):
            return web.json_response({"message": "Not Found"}, status=404)
        found = self.tagged(path.removeprefix(self.prefix))
        if found is None:
            return web.json_response({"message": "Not Found"}, status=404)
        etag, body, headers = found
        if if_none_match == etag:
            return web.Response(status=304, headers={"ETag": etag, **headers})
        text = body if isinstance(body, str) else json.dumps(body)
        return web.Response(
            text=text, content_type="application/json", headers={"ETag": etag, **headers}
        )

    async def _fault(self, fault: Fault) -> web.Response:
        """The answer an injected fault gives instead of the document."""
        if fault == "hang":
            await self._closing.wait()
        if fault in ("500", "503"):
            return web.Response(status=int(fault), text="<html>Server Error</html>")
        if fault == "malformed":
            return web.Response(text='{"info": {"name": ', content_type="application/json")
        if fault == "not-json-object":
            return web.json_response(["not", "a", "project"])
        if fault == "gzip-bomb":
            return web.Response(
                body=gzipped_spaces(self.bomb_bytes),
                content_type="application/json",
                headers={"Content-Encoding": "gzip"},
            )
        if fault == "deep-json":
            return web.Response(text="[" * 100_000 + "]" * 100_000, content_type="application/json")
        if fault == "redirect":
            return web.Response(status=302, headers={"Location": self.redirect_to})
        return web.json_response({"message": "Not Found"}, status=404)


class FakePypi(_JsonFake):
    """PyPI's `GET /pypi/<project>/json`, seeded with the real project captures, and its
    journal (`POST /pypi`, XML-RPC); `journal_limit` caps one journal answer, as PyPI does."""

    SEEDS = ("asgiref", "djangorestframework", "django-crispy-forms", "nango")
    SYNTHETIC_TEMPLATE = "django-crispy-forms"

    def __init__(
        self,
        *,
        synthetic: bool = False,
        latency: float = 0.0,
        port: int = 0,
        journal_limit: int = JOURNAL_LIMIT,
    ) -> None:
        super().__init__("/pypi/", latency=latency, port=port)
        #: Synthetic mode: releases published on top of the template, per project asked for.
        self.synthetic: dict[str, list[str]] | None = {} if synthetic else None
        self._template = capture(f"pypi/{self.SYNTHETIC_TEMPLATE}.json")
        self.projects: dict[str, Payload] = {}
        #: Per project, the (info, urls) each `publish` replaced: what a yank falls back to.
        self._earlier: dict[str, list[tuple[Payload, list[Payload]]]] = {}
        for seed in self.SEEDS:
            self.projects[seed] = capture(f"pypi/{seed}.json")
        start = max(project["last_serial"] for project in self.projects.values())
        self.journal = FakeJournal(start, limit=journal_limit)
        #: Synthetic mode: each project's `last_serial` once the journal named it.
        self._serials: dict[str, int] = {}
        self._journal_faults: list[JournalFault] = []
        #: Per project, how it was before its latest change, and how many answers still say so.
        self._stale: dict[str, tuple[Payload, int]] = {}
        self._before: dict[str, Payload] = {}

    #: The seeded Django Packages fake's projects, each served as a real capture renamed.
    SEEDED_CATALOG: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "django-flatblocks": "djangorestframework",  # declares Django 2.2-4.0
            "django-cache-machine": "django-crispy-forms",  # 2.2, 3.2, 4.0
            "django-rest-registration": "nango",  # no Django version declared
            "django-queued-storage": "asgiref",  # none either; a yanked release
        }
    )

    def serve_seeded_catalog(self) -> None:
        """Answer for the seeded Django Packages fake's projects (`SEEDED_CATALOG`)."""
        for name, seed in self.SEEDED_CATALOG.items():
            self.serve_as(name, seed)

    def document(self, path: str) -> Any | None:
        name, _, rest = path.partition("/")
        return self.projects.get(pep503(name)) if rest == "json" else None

    def tagged(self, path: str) -> Tagged | None:
        name, _, rest = path.partition("/")
        key = pep503(name)
        if key in self._stale and rest == "json":
            return self.tag(self._stale_answer(key))
        if self.synthetic is None or rest != "json" or key in self.projects:
            return super().tagged(path)
        published = self.synthetic.setdefault(key, [])
        etag = f'"{key}-{len(published)}"'  # cheap: most answers are 304s
        payload = self._synthetic(name, published)
        return etag, payload, self.headers_of(payload)

    def headers_of(self, body: Any) -> dict[str, str]:
        serial = body.get("last_serial") if isinstance(body, dict) else None
        return {"X-PyPI-Last-Serial": str(serial)} if isinstance(serial, int) else {}

    def _synthetic(self, name: str, published: list[str]) -> Payload:
        """The template renamed, with `published` releases on top (shallow copies)."""
        template = self._template
        payload = {**template, "info": {**template["info"], "name": name}}
        payload["last_serial"] = self._serials.get(pep503(name), template["last_serial"])
        if published:
            file = {**template["urls"][0], "yanked": False}
            payload["info"]["version"] = published[-1]
            payload["urls"] = [file]
            payload["releases"] = {**template["releases"], **{v: [file] for v in published}}
        return payload

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/_fake/drift", self._drift)
        for path in ("/pypi", "/pypi/", "/RPC2"):  # PyPI's XML-RPC endpoints
            app.router.add_post(path, self._xmlrpc)

    async def _drift(self, request: web.Request) -> web.Response:
        """Publish a new release of `fraction` of the synthetic projects asked for so far, and
        write `noise` journal entries about other projects."""
        assert self.synthetic is not None, "drift is for --synthetic"
        rng = random.Random(int(request.query.get("seed", "0")))
        names = sorted(self.synthetic)
        chosen = rng.sample(names, round(len(names) * float(request.query.get("fraction", "0.05"))))
        for name in chosen:
            version = f"2.{len(self.synthetic[name])}.0"
            self.synthetic[name].append(version)
            self._serials[name] = self.journal.release(name, version)
        self.journal.noise(int(request.query.get("noise", "0")), rng)
        return web.json_response({"changed": len(chosen)})

    # -- the journal ------------------------------------------------------------------------

    def inject_journal(self, fault: JournalFault, times: int = 1) -> None:
        """Answer the next `times` journal calls with `fault` (the JSON API is unaffected):
        "500", "405" (a server without XML-RPC), "fault" (an XML-RPC fault), "malformed"
        (cut-off XML), "doctype" (entities declared to expand a billion-fold) or
        "not-entries" (a well-formed answer of the wrong shape)."""
        self._journal_faults += [fault] * times

    async def _xmlrpc(self, request: web.Request) -> web.Response:
        self.user_agents.add(request.headers.get("User-Agent", ""))
        try:
            params, method = xmlrpc.client.loads(await request.read())
        except Exception:  # whatever cannot be read is answered with a fault, as PyPI does
            params, method = (), None
        response = await self._journal_answer(method or "", params)
        self.served.append(Served(request.path, None, response.status, rpc=method))
        return response

    async def _journal_answer(self, method: str, params: tuple[Any, ...]) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        if self._journal_faults:
            return self._journal_fault(self._journal_faults.pop(0))
        if self._faults and self._faults[0] in _ANY_ANSWER:
            return await self._fault(self._faults.pop(0))
        try:
            answer = self.journal.answer(method, params)
        except xmlrpc.client.Fault as fault:
            answer = fault
        return web.Response(text=method_response(answer), content_type="text/xml")

    def _journal_fault(self, fault: JournalFault) -> web.Response:
        if fault in ("500", "405"):
            return web.Response(status=int(fault), text="<html>No</html>")
        text = {
            "fault": method_response(xmlrpc.client.Fault(-32500, "Too many requests.")),
            "malformed": method_response([]).replace("</methodResponse>", ""),
            "doctype": _LAUGHS,
            "not-entries": method_response([["django-flatblocks", "3.14.0"]]),
        }[fault]
        return web.Response(text=text, content_type="text/xml")

    def _changing(self, name: str) -> Payload:
        """The project about to change, as it is still: what `serve_stale` answers with."""
        payload = self.project(name)
        self._before[pep503(name)] = copy.deepcopy(payload)
        return payload

    def _journaled(self, name: str, serial: int) -> None:
        """The project's `last_serial` after its change, written as journal entry `serial`."""
        if pep503(name) in self.projects:
            self.projects[pep503(name)]["last_serial"] = serial

    def serve_stale(self, name: str, answers: int = 1) -> None:
        """The next `answers` requests for `name` get it as it was before its latest change,
        as a cache that has not caught up yet would (its old body, `last_serial` and ETag)."""
        self._stale[pep503(name)] = (self._before[pep503(name)], answers)

    def _stale_answer(self, key: str) -> Payload:
        earlier, left = self._stale.pop(key)
        if left > 1:
            self._stale[key] = (earlier, left - 1)
        return earlier

    # -- changes ----------------------------------------------------------------------------

    def project(self, name: str) -> Payload:
        return self.projects[pep503(name)]

    def serve_as(self, name: str, seed: str) -> Payload:
        """The capture of `seed` served as project `name` (its `info.name` renamed), created
        on PyPI now as far as the journal says."""
        payload = copy.deepcopy(capture(f"pypi/{seed}.json"))
        payload["info"]["name"] = name
        self.projects[pep503(name)] = payload
        self.journal.record(name, None, "create", None)
        self._journaled(name, self.journal.release(name, payload["info"]["version"]))
        return payload

    def remove(self, name: str) -> None:
        if self.projects.pop(pep503(name), None) is not None:
            self.journal.record(name, None, "remove project", None)

    def publish(
        self,
        name: str,
        version: str,
        *,
        django: Iterable[str] | None = None,
        uploaded: datetime | None = None,
        latest: bool = True,
    ) -> None:
        """Upload `version` as PyPI would: its file is the latest one's, renamed and re-dated;
        `django` replaces the `Framework :: Django :: X.Y` classifiers (None keeps them, `[]`
        leaves only `Framework :: Django`); `latest=False` for a pre-release or a backport,
        which PyPI does not make the project's latest version."""
        payload = self._changing(name)
        info = payload["info"]
        template = copy.deepcopy(payload["urls"][0])
        old_version = info["version"]
        at = uploaded or datetime.now(UTC)
        template["filename"] = template["filename"].replace(old_version, version)
        template["url"] = template["url"].replace(old_version, version)
        template["upload_time_iso_8601"] = at.isoformat(timespec="microseconds").replace(
            "+00:00", "Z"
        )
        template["upload_time"] = at.strftime("%Y-%m-%dT%H:%M:%S")
        template["yanked"], template["yanked_reason"] = False, None
        payload["releases"][version] = [template]
        self._journaled(name, self.journal.release(info["name"], version, at))
        if not latest:
            return
        self._earlier.setdefault(pep503(name), []).append(
            (copy.deepcopy(info), copy.deepcopy(payload["urls"]))
        )
        info["version"] = version
        info["release_url"] = info["release_url"].replace(old_version, version)
        payload["urls"] = [template]
        if django is not None:
            kept = [c for c in info["classifiers"] if not _DJANGO.match(c)]
            info["classifiers"] = sorted(
                {*kept, "Framework :: Django", *(f"Framework :: Django :: {v}" for v in django)}
            )

    def yank(self, name: str, version: str, reason: str | None) -> None:
        """Yank every file of `version`. When it was the latest, PyPI's latest becomes the
        release before it (the project's `info` and `urls` are that release's again)."""
        payload = self._changing(name)
        for file in payload["releases"][version]:
            file["yanked"], file["yanked_reason"] = True, reason
        earlier = self._earlier.get(pep503(name))
        if payload["info"]["version"] == version and earlier:
            payload["info"], payload["urls"] = earlier.pop()
        self._journaled(
            name, self.journal.record(payload["info"]["name"], version, "yank release", None)
        )


class FakeEndOfLife(_JsonFake):
    """endoflife.date's `GET /api/django.json`, seeded with the real capture."""

    def __init__(self, *, latency: float = 0.0, port: int = 0) -> None:
        super().__init__("/api/", latency=latency, port=port)
        self.cycles: list[Payload] = capture("endoflife/django.json")

    def document(self, path: str) -> Any | None:
        return self.cycles if path == "django.json" else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake PyPI JSON API locally.")
    parser.add_argument(
        "--port", type=int, default=8766, help="port on 127.0.0.1 (0: any); endoflife.date: +1"
    )
    parser.add_argument("--synthetic", action="store_true", help="answer for any project name")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per response")
    args = parser.parse_args(argv)
    api = FakePypi(synthetic=args.synthetic, latency=args.latency, port=args.port)
    api.serve_seeded_catalog()
    endoflife = FakeEndOfLife(port=args.port + 1) if args.port else None
    ports = f"ports {args.port} and {args.port + 1}" if args.port else "a free port"
    serve_until_interrupted(_serve(api, endoflife), ports)


async def _serve(api: FakePypi, endoflife: FakeEndOfLife | None) -> None:
    """Serve both fakes, saying which settings point djp-sentinel at them (PyPI's is the
    server's root: the client adds `pypi/<project>/json`)."""
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(api)
        pypi_url = api.base_url.removesuffix("pypi/")
        print(f"Fake PyPI: export PYPI_URL={pypi_url} (Ctrl+C to stop)", flush=True)
        if endoflife is not None:
            await stack.enter_async_context(endoflife)
            print(f"Fake endoflife.date: export ENDOFLIFE_URL={endoflife.base_url}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    main()
