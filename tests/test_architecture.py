"""The layers stay visible: each package imports only the layers below it.

`bot.core` is the domain and imports nothing above it; only the Discord adapter
(`bot.discordbot`) and the cogs import discord; the pure decide steps (`PURE_MODULES`) use no
storage, HTTP, Discord or clock. Every import counts, including ones deferred
into a function body, so a lazy import cannot smuggle a layer upwards.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The foundation modules every layer may use.
FOUNDATION = {"bot", "bot.errors", "bot.config", "bot.logs", "bot.metrics"}

#: Every layer below the use cases: what `bot.app` may build on.
APP_MAY_USE = {
    "bot.core",
    "bot.djp",
    "bot.pypi",
    "bot.osv",
    "bot.messages",
    "bot.refresh",
    "bot.delivery",
    "storage",
}
#: What the front ends (the Discord adapter, the cogs, the CLI) build on, besides each other.
FRONTS_MAY_USE = APP_MAY_USE | {"bot.app", "bot.process"}

#: For each layer, the first-party layers it may import (besides itself and the foundation).
ALLOWED: dict[str, set[str]] = {
    "bot.core": set(),
    "bot.djp": {"bot.core"},
    #: OSV, PyPI and endoflife.date reuse the Django Packages client's User-Agent, its
    #: bounds on an upstream (`bot.djp.body`, `bot.djp.origin`) and its closing
    #: (`bot.djp.lifecycle`); PyPI its retry policy and loop (`bot.djp.retry`) too.
    "bot.osv": {"bot.core", "bot.djp"},
    "bot.pypi": {"bot.core", "bot.djp"},
    "bot.messages": {"bot.core"},
    "storage": {"bot.core"},
    "bot.refresh": {"bot.core", "bot.djp", "bot.osv", "bot.pypi", "bot.messages", "storage"},
    "bot.delivery": {"bot.core", "bot.messages", "storage"},
    "bot.app": APP_MAY_USE,
    "bot.process": APP_MAY_USE | {"bot.app"},
    "bot.discordbot": FRONTS_MAY_USE | {"cogs"},
    "cogs": FRONTS_MAY_USE | {"bot.discordbot"},
    "bot.cli": FRONTS_MAY_USE | {"bot.discordbot"},
}

#: Third-party libraries that mean I/O or Discord, and the layers that may use them.
IO_LIBRARIES = {"discord", "httpx", "sqlalchemy", "aiohttp", "asyncpg", "aiosqlite", "alembic"}
DISCORD_LAYERS = {"bot.discordbot", "cogs"}

#: The pure decide steps: what they return depends on their arguments alone. They may use the
#: domain and each other, never storage, an HTTP or Discord client, or a clock.
PURE_MODULES = {
    "bot.refresh.advisory_compare",
    "bot.refresh.audience",
    "bot.refresh.compare",
    "bot.refresh.pypi_compare",
    "bot.refresh.pypi_plan",
    "bot.refresh.schedule",
    "bot.refresh.staleness",
}
PURE_MAY_IMPORT = {"bot.core", "bot.errors", *PURE_MODULES}
CLOCKS = {"time", "bot.core.clock"}
#: Calls that read the clock without importing one (`datetime.now()`, `date.today()`).
CLOCK_CALLS = {"now", "utcnow", "today"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def imports_of(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            # `from bot import core` imports the package `bot.core`.
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def source_files() -> Iterator[Path]:
    for top in ("bot", "cogs", "storage"):
        yield from (ROOT / top).rglob("*.py")


def violations() -> Iterator[str]:
    for path in source_files():
        importer = module_name(path)
        layer = layer_of(importer)
        for imported in set(imports_of(path)):
            top = imported.split(".")[0]
            if top == "discord" and layer not in DISCORD_LAYERS:
                yield f"{importer} imports discord"
            if layer == "bot.core" and top in IO_LIBRARIES:
                yield f"{importer} (core) imports {top}"
            target = layer_of(imported)
            if layer is None or target is None or target == layer:
                continue
            if target not in ALLOWED[layer]:
                yield f"{importer} ({layer}) imports {imported} ({target})"


def pure_may_import(imported: str) -> bool:
    """Whether a pure module may import `imported`: no clock, I/O library or first-party
    module but the domain, the errors and the other pure modules."""
    top = imported.split(".")[0]
    if top in CLOCKS or imported in CLOCKS or top in IO_LIBRARIES:
        return False
    if top not in ("bot", "cogs", "storage") or imported == "bot":
        return True
    return any(imported == name or imported.startswith(name + ".") for name in PURE_MAY_IMPORT)


def impurities(path: Path) -> Iterator[str]:
    """What makes a pure module impure: an import it may not use, or a call reading the time."""
    importer = module_name(path)
    for imported in sorted(set(imports_of(path))):
        if not pure_may_import(imported):
            yield f"{importer} (pure) imports {imported}"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        call = node.func if isinstance(node, ast.Call) else None
        if isinstance(call, ast.Attribute) and call.attr in CLOCK_CALLS:
            yield f"{importer} (pure) reads the clock: {call.attr}()"


def pure_violations() -> Iterator[str]:
    for path in source_files():
        if module_name(path) in PURE_MODULES:
            yield from impurities(path)


def test_every_module_belongs_to_a_layer_or_the_foundation() -> None:
    loose = [
        module_name(path)
        for path in source_files()
        if layer_of(module_name(path)) is None
        and module_name(path) not in FOUNDATION | {"bot.__main__"}
    ]
    assert loose == []


def test_layers_import_only_downwards() -> None:
    assert sorted(violations()) == []


def test_the_pure_modules_exist() -> None:
    missing = [
        name for name in PURE_MODULES if not (ROOT / (name.replace(".", "/") + ".py")).exists()
    ]
    assert missing == []


def test_pure_steps_use_no_storage_http_discord_or_clock() -> None:
    assert sorted(pure_violations()) == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("from storage import packages", "imports storage"),
        ("from storage.models import Package", "imports storage.models"),
        ("import httpx", "imports httpx"),
        ("from sqlalchemy.ext.asyncio import AsyncSession", "imports sqlalchemy.ext.asyncio"),
        ("import discord", "imports discord"),
        ("import time", "imports time"),
        ("from bot.core.clock import utcnow", "imports bot.core.clock"),
        ("from bot.refresh.monitor import Monitor", "imports bot.refresh.monitor"),
        ("from bot.djp.client import DjangoPackagesClient", "imports bot.djp.client"),
        ("from bot.metrics import CYCLES", "imports bot.metrics"),
        ("from datetime import datetime\nNOW = datetime.now()", "reads the clock: now()"),
    ],
)
def test_the_purity_check_catches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, expected: str
) -> None:
    """Plant one impurity in a copy of a pure module and see the check name it."""
    planted = tmp_path / "bot" / "refresh" / "compare.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(f"from bot.core.records import PackageRecord\n{line}\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert [v for v in impurities(planted) if expected in v] != []
    assert not any("bot.core.records" in v for v in impurities(planted))


@pytest.mark.parametrize(
    ("importer", "imported", "expected"),
    [
        ("bot.core.health", "storage.models", "bot.core.health (bot.core) imports storage.models"),
        ("bot.core.records", "discord", "bot.core.records imports discord"),
        ("storage.packages", "bot.refresh.monitor", "(storage) imports bot.refresh.monitor"),
    ],
)
def test_the_check_catches_an_upward_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, importer: str, imported: str, expected: str
) -> None:
    """Plant one bad import in a copy of the tree's layout and see the check name it."""
    planted = tmp_path / (importer.replace(".", "/") + ".py")
    planted.parent.mkdir(parents=True)
    planted.write_text(f"import {imported}\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    for top in ("bot", "cogs", "storage"):
        (tmp_path / top).mkdir(exist_ok=True)
    assert any(expected in line for line in violations())
