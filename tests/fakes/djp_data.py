"""What the fake Django Packages API serves: the seeded fixtures or a synthetic catalog.

Payloads are stored the way the API sends them. Hyperlinks may point anywhere (the seeds point
upstream, some with `?format=api`); the fake rebuilds them from its own base URL when serving.
Grid membership has one home, the packages' `grids` links; a grid's `packages` list is
derived from them when served, so the two can never disagree.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.plugins.data import SEED_SLUGS, load_json, seed_package

Payload = dict[str, Any]

API_PATH = "/api/v4/"
NEW_YORK = ZoneInfo("America/New_York")
COMMIT_WEEKS = 52
_LINK = re.compile(r"/api/v\d+/(?P<kind>packages|grids|categories)/(?P<id>\d+)/")

# Plausible names for the grids the seeded packages belong to (id: title, slug, description).
SEEDED_GRID_NAMES: dict[int, tuple[str, str, str]] = {
    7: ("Registration", "registration", "User registration, activation and sign-up flows."),
    11: ("Debugging", "debugging", "Tools that show what a request, a query or a template did."),
    21: ("Developer Tools", "developer-tools", "Helpers for working on Django projects."),
    39: ("Caching", "caching", "Cache backends for Django"),
    48: ("Flatpages", "flatpages", "Editable chunks of content and flat pages."),
    84: ("Storage Backends", "storage-backends", "Alternative file storage backends."),
    87: ("File Managers", "file-managers", "Upload, browse and organise files."),
    113: ("Profilers", "profilers", "Find out where the time goes."),
}


@dataclass
class Content:
    """Packages, grids and categories by id, as mutable API payloads."""

    packages: dict[int, Payload] = field(default_factory=dict)
    grids: dict[int, Payload] = field(default_factory=dict)
    categories: dict[int, Payload] = field(default_factory=dict)


def link(kind: str, record_id: int) -> str:
    """A hyperlink in stored form; the fake serves it under its own base URL."""
    return f"{API_PATH}{kind}/{record_id}/"


def parse_link(value: Any) -> tuple[str, int] | None:
    """`(kind, id)` of an API hyperlink, whatever its host and query string; else `None`."""
    match = _LINK.search(value) if isinstance(value, str) else None
    return (match["kind"], int(match["id"])) if match else None


def grid_ids(package: Payload) -> list[int]:
    """The grid ids a package payload links to, ignoring anything that is not a grid link."""
    links = package.get("grids")
    parsed = [parse_link(value) for value in links] if isinstance(links, list) else []
    return [record_id for kind, record_id in filter(None, parsed) if kind == "grids"]


def seed_payloads() -> list[Payload]:
    """The five real seed packages, the two capture-derived ones and the list examples."""
    captured = [load_json(f"package-detail-{i}.capture-derived.json") for i in (1444, 5963)]
    listed = load_json("package-list.reconstructed.json")["results"]
    return [seed_package(slug) for slug in SEED_SLUGS] + captured + listed


def seed_categories() -> dict[int, Payload]:
    return {c["id"]: c for c in load_json("category-list.reconstructed.json")["results"]}


def seeded() -> Content:
    """The default content: seed packages, the example categories, and every grid they use."""
    packages = {p["id"]: p for p in seed_payloads()}
    example = load_json("grid-detail.reconstructed.json")
    del example["packages"]  # membership is derived from the packages' links
    grids = {example["id"]: example, **grids_for(packages.values(), SEEDED_GRID_NAMES)}
    return Content(packages, grids, seed_categories())


def grids_for(
    packages: Iterable[Payload], names: dict[int, tuple[str, str, str]] | None = None
) -> dict[int, Payload]:
    """A grid payload for every grid id the packages link to, named from `names` if listed."""
    names = names or {}
    referenced = sorted({gid for package in packages for gid in grid_ids(package)})
    return {gid: _grid(gid, *names.get(gid, _generic_grid_name(gid))) for gid in referenced}


def _generic_grid_name(grid_id: int) -> tuple[str, str, str]:
    return f"Grid {grid_id}", f"grid-{grid_id}", f"Synthetic grid number {grid_id}."


def _grid(grid_id: int, title: str, slug: str, description: str) -> Payload:
    created = datetime(2011, 1, 1, 12, tzinfo=NEW_YORK) + timedelta(days=7 * grid_id)
    return {
        "id": grid_id,
        "title": title,
        "slug": slug,
        "description": description,
        "is_locked": False,
        "header": grid_id % 10 == 0,
        "created": created.isoformat(),
        "modified": (created + timedelta(days=30, microseconds=grid_id)).isoformat(),
    }


# -- synthetic catalog (benchmarks, CLI) -------------------------------------------------------

SYNTHETIC_EPOCH = datetime(2010, 8, 1, tzinfo=NEW_YORK)
SYNTHETIC_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=NEW_YORK)
_WORDS = (  # noqa: SIM905 - a word list reads better as one string
    "auth cache admin rest forms tables storage search tags filer blocks queue mail pay "
    "import export audit history celery graphql channels health secure seo i18n maps "
    "comments ratings polls wiki blog shop notify social otp guardian sitemap"
).split()
_NAME = re.compile(r"[^/]+/?$")


def synthetic_catalog(n: int, seed: int = 0) -> list[Payload]:
    """`n` realistic package payloads with ids 1..n, reproducible from `seed`.

    Versions, stars and commit windows vary (some `[]`), most timestamps carry a New York
    offset and some are naive, and URL forms are those seen in the seeds.
    """
    rng = random.Random(seed)
    forms = _url_forms(seed_payloads())
    grid_count = max(3, n // 15)  # upstream has about one grid per 15 packages
    return [_synthetic_package(rng, i, n, grid_count, forms) for i in range(1, n + 1)]


def synthetic_content(n: int, seed: int = 0) -> Content:
    """A synthetic catalog with grids over it and the example categories."""
    packages = {p["id"]: p for p in synthetic_catalog(n, seed)}
    return Content(packages, grids_for(packages.values()), seed_categories())


def _url_forms(payloads: list[Payload]) -> dict[str, list[str]]:
    """`repo_url` and `pypi_url` templates (`{name}` for the last segment) from real payloads."""
    forms: dict[str, list[str]] = {}
    for key in ("repo_url", "pypi_url"):
        urls = {p[key] for p in payloads if p.get(key)}
        forms[key] = sorted({_NAME.sub(_templated, url) for url in urls})
    return forms


def _templated(match: re.Match[str]) -> str:
    return "{name}/" if match.group().endswith("/") else "{name}"


def _synthetic_package(
    rng: random.Random, package_id: int, n: int, grid_count: int, forms: dict[str, list[str]]
) -> Payload:
    slug = f"django-{rng.choice(_WORDS)}-{rng.choice(_WORDS)}-{package_id}"
    created = SYNTHETIC_EPOCH + (SYNTHETIC_NOW - SYNTHETIC_EPOCH) * (package_id / (n + 1))
    fresh = rng.random() < 0.03  # just added: nothing fetched yet
    stars = 0 if fresh else int(rng.paretovariate(1.2) * 5) - 5
    last_commit = created + (SYNTHETIC_NOW - created) * rng.random()
    last_fetched = SYNTHETIC_NOW - timedelta(hours=rng.uniform(1, 30))
    if rng.random() < 0.05:  # no longer refreshed upstream
        last_fetched -= timedelta(days=rng.randint(15, 400))
    return {
        "category": link("categories", rng.choice((1, 1, 1, 2, 4))),
        "grids": [link("grids", g) for g in rng.sample(range(1, grid_count + 1), _grid_span(rng))],
        "id": package_id,
        "title": slug.replace("-", " ").title() if rng.random() < 0.2 else slug,
        "slug": slug,
        "last_updated": None if fresh else _timestamp(rng, last_commit),
        "last_fetched": _timestamp(rng, created if fresh else last_fetched),
        "repo_url": _url(rng, forms["repo_url"], slug),
        "pypi_version": None if fresh or rng.random() < 0.05 else _version(rng),
        "created": _timestamp(rng, created),
        "modified": _timestamp(rng, max(created, SYNTHETIC_NOW - timedelta(days=124))),
        "repo_forks": stars // rng.randint(3, 12),
        "repo_description": f"{slug.removeprefix('django-').replace('-', ' ')} for Django.",
        "pypi_url": _url(rng, forms["pypi_url"], slug),
        "documentation_url": rng.choice((None, "", f"https://{slug}.readthedocs.io/")),
        "repo_watchers": stars,
        "commits_over_52": [] if fresh or rng.random() < 0.1 else _commit_weeks(rng),
        "participants": [f"dev-{rng.randint(1, 500)}" for _ in range(rng.randint(0, 6))],
    }


def _url(rng: random.Random, forms: list[str], name: str) -> str:
    return "" if rng.random() < 0.05 else rng.choice(forms).format(name=name)


def _grid_span(rng: random.Random) -> int:
    return rng.choice((0, 1, 1, 1, 2, 3))


def _version(rng: random.Random) -> str:
    version = f"{rng.randint(0, 6)}.{rng.randint(0, 20)}.{rng.randint(0, 12)}"
    return version + rng.choice(("", "", "", "", "rc1", "b2", ".post1"))


def _commit_weeks(rng: random.Random) -> list[int]:
    """52 weekly counts, oldest first: quiet, steady, or a project that stopped at some week."""
    style = rng.choice(("quiet", "steady", "stopped"))
    if style == "quiet":
        return [0] * COMMIT_WEEKS
    last_active = COMMIT_WEEKS if style == "steady" else rng.randint(1, COMMIT_WEEKS - 4)
    return [
        rng.choice((0, 0, 1, 2, 5)) if week < last_active else 0 for week in range(COMMIT_WEEKS)
    ]


def _timestamp(rng: random.Random, moment: datetime) -> str:
    """ISO-8601 as upstream renders it: New York offset, microseconds only when non-zero,
    and naive for a few rows that predate the time-zone switch."""
    moment = moment.astimezone(NEW_YORK)
    if rng.random() < 0.5:
        moment = moment.replace(microsecond=0)
    return moment.replace(tzinfo=None).isoformat() if rng.random() < 0.1 else moment.isoformat()
