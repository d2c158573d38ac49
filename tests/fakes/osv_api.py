"""A loopback fake of the OSV API: `POST /v1/querybatch` and `GET /v1/vulns/{id}`, seeded
with the real records in `tests/data/osv/`.

It answers as osv.dev documents (`api-examples.md` in the shared captures): one result per
query in order, `{}` for a package with no advisory, `{"vulns": [{"id", "modified"}]}` else,
a `next_page_token` when a query has more than `page_size` ids, and `{"code": 5, ...}` with
404 for an unknown id. Tests edit records (`put`, `update`), and make it fail (`down`,
`malformed`) or turn hostile (`gzip-bomb`, `deep-json`, `redirect` to `redirect_to`)::

    async with FakeOsv() as osv:
        osv.update("GHSA-68w8-qjq3-2gfm", modified="2026-01-01T00:00:00Z")

For benchmarks, `synthetic_every=K` also gives one advisory to every K-th other name asked
about (a real record's copy naming that package), and `POST /_drift?fraction=F` moves the
`modified` time of that share of them. Standalone:
``python -m tests.fakes.osv_api --port 0 --synthetic-every 5``.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Literal, Self

from aiohttp import web
from packaging.utils import canonicalize_name

from tests.fakes.djp_api import gzipped_spaces
from tests.fakes.standalone import serve_until_interrupted

HOST = "127.0.0.1"
DATA = Path(__file__).parents[1] / "data" / "osv"
Record = dict[str, Any]
Failure = Literal["down", "malformed", "gzip-bomb", "deep-json", "redirect"]


def real_records() -> dict[str, Record]:
    """Every real OSV record in `tests/data/osv/`, by id."""
    records = {}
    for path in sorted(DATA.glob("*-*.json")):
        if path.name.startswith("api-"):
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        records[record["id"]] = record
    return records


def _names(record: Record) -> set[str]:
    return {
        canonicalize_name(affected["package"]["name"])
        for affected in record.get("affected", ())
        if affected.get("package", {}).get("ecosystem") == "PyPI"
    }


class FakeOsv:
    """The fake API; `records` is served live (tests may add, change or remove records)."""

    def __init__(
        self,
        records: dict[str, Record] | None = None,
        *,
        page_size: int = 1000,
        synthetic_every: int = 0,
        port: int = 0,
    ) -> None:
        self.records: dict[str, Record] = records if records is not None else real_records()
        self.page_size = page_size
        self.synthetic_every = synthetic_every
        self._port = port
        self._names: dict[str, set[str]] = {}
        """Ids per query page before a `next_page_token` (osv.dev: about 1,000)."""
        self.failure: Failure | None = None
        """How every answer fails until reset (None: they do not)."""
        self.garbled: set[str] = set()
        """Names whose batch result, and ids whose record, OSV answers malformed until reset
        (a result that is not an object, a record cut off mid-JSON): one item, not the call."""
        self.bomb_bytes = 64 * 1024 * 1024
        """What a "gzip-bomb" body inflates to."""
        self.redirect_to = ""
        """Where a "redirect" sends every request (a 307, so a POST stays a POST)."""
        self.requests: list[tuple[str, str]] = []
        """(method, path) of every request, in order."""
        self.batch_bodies: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self._base_url = ""

    @property
    def base_url(self) -> str:
        """E.g. ``http://127.0.0.1:43210/``, what `OSV_API_URL` is set to."""
        if not self._base_url:
            raise RuntimeError("the fake OSV API is not running")
        return self._base_url

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v1/querybatch", self._querybatch)
        app.router.add_get("/v1/vulns/{id}", self._vuln)
        app.router.add_post("/_drift", self._drift)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, self._port).start()
        self._base_url = f"http://{HOST}:{self._runner.addresses[0][1]}/"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- editing records ------------------------------------------------------------------------

    def put(self, record: Record) -> None:
        self.records[record["id"]] = copy.deepcopy(record)
        self._names[record["id"]] = _names(record)

    def update(self, vuln_id: str, **fields: Any) -> None:
        self.records[vuln_id] = {**self.records[vuln_id], **fields}
        self._names[vuln_id] = _names(self.records[vuln_id])

    def count(self, method: str, prefix: str = "") -> int:
        return sum(1 for m, path in self.requests if m == method and path.startswith(prefix))

    # -- handlers -------------------------------------------------------------------------------

    def _failed(self) -> web.Response | None:
        if self.failure == "down":
            return web.Response(status=503, text="Service Unavailable")
        if self.failure == "malformed":
            return web.Response(text='{"results": [', content_type="application/json")
        if self.failure == "gzip-bomb":
            return web.Response(
                body=gzipped_spaces(self.bomb_bytes),
                content_type="application/json",
                headers={"Content-Encoding": "gzip"},
            )
        if self.failure == "deep-json":
            return web.Response(text="[" * 100_000 + "]" * 100_000, content_type="application/json")
        if self.failure == "redirect":
            return web.Response(status=307, headers={"Location": self.redirect_to})
        return None

    async def _querybatch(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", request.path))
        if (failed := self._failed()) is not None:
            return failed
        body = await request.json()
        self.batch_bodies.append(body)
        return web.json_response({"results": [self._query(q) for q in body["queries"]]})

    def _query(self, query: dict[str, Any]) -> dict[str, Any] | str:
        name = canonicalize_name(query["package"]["name"])
        if name in self.garbled:
            return "garbled"
        ids = sorted(vid for vid in self.records if name in self._names_of(vid))
        if not ids and self._synthetic(name):
            self.put(self._synthetic_record(name))
            ids = [f"BENCH-{name}"]
        start = int(query.get("page_token") or 0)
        page = ids[start : start + self.page_size]
        if not page:
            return {}
        result: dict[str, Any] = {
            "vulns": [{"id": vid, "modified": self.records[vid]["modified"]} for vid in page]
        }
        if start + self.page_size < len(ids):
            result["next_page_token"] = str(start + self.page_size)
        return result

    def _names_of(self, vuln_id: str) -> set[str]:
        """The PyPI names a served record affects (cached: `put` and `update` refresh it)."""
        if vuln_id not in self._names:
            self._names[vuln_id] = _names(self.records[vuln_id])
        return self._names[vuln_id]

    def _synthetic(self, name: str) -> bool:
        digest = hashlib.blake2b(name.encode(), digest_size=4).digest()
        return self.synthetic_every > 0 and int.from_bytes(digest) % self.synthetic_every == 0

    def _synthetic_record(self, name: str) -> Record:
        record = copy.deepcopy(
            self.records.get("GHSA-68w8-qjq3-2gfm") or real_records()["GHSA-68w8-qjq3-2gfm"]
        )
        for affected in record["affected"]:
            affected["package"]["name"] = name
        return {**record, "id": f"BENCH-{name}", "aliases": []}

    async def _drift(self, request: web.Request) -> web.Response:
        """Move `modified` on a `fraction` of the synthetic records."""
        synthetic = sorted(vid for vid in self.records if vid.startswith("BENCH-"))
        share = synthetic[: round(len(synthetic) * float(request.query["fraction"]))]
        for vuln_id in share:
            self.update(vuln_id, modified=f"2026-12-{len(self.requests) % 28 + 1:02d}T00:00:00Z")
        return web.json_response({"moved": len(share)})

    async def _vuln(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.path))
        if (failed := self._failed()) is not None:
            return failed
        if request.match_info["id"] in self.garbled:
            return web.Response(text='{"id": ', content_type="application/json")
        record = self.records.get(request.match_info["id"])
        if record is None:
            return web.json_response({"code": 5, "message": "Vulnerability not found"}, status=404)
        return web.json_response(record)


async def _serve(port: int, synthetic_every: int) -> None:
    async with FakeOsv(synthetic_every=synthetic_every, port=port) as api:
        print(f"Fake OSV API: export OSV_API_URL={api.base_url} (Ctrl+C to stop)", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--synthetic-every", type=int, default=5)
    arguments = parser.parse_args()
    serve_until_interrupted(
        _serve(arguments.port, arguments.synthetic_every), f"port {arguments.port}"
    )
