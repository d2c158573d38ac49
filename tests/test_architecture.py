"""The layers stay visible: each package imports only the layers below it.

`bot.core` is the domain and imports nothing above it; only the Discord adapter
(`bot.discordbot`) and the cogs import discord. Every import counts, including ones deferred
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

#: For each layer, the first-party layers it may import (besides itself and the foundation).
ALLOWED: dict[str, set[str]] = {
    "bot.core": set(),
    "bot.djp": {"bot.core"},
    "bot.osv": {"bot.core"},
    "bot.messages": {"bot.core"},
    "storage": {"bot.core"},
    "bot.refresh": {"bot.core", "bot.djp", "bot.osv", "bot.messages", "storage"},
    "bot.delivery": {"bot.core", "bot.messages", "storage"},
    "bot.app": {
        "bot.core",
        "bot.djp",
        "bot.osv",
        "bot.messages",
        "bot.refresh",
        "bot.delivery",
        "storage",
    },
    "bot.process": {
        "bot.core",
        "bot.djp",
        "bot.osv",
        "bot.messages",
        "bot.refresh",
        "bot.delivery",
        "bot.app",
        "storage",
    },
    "bot.discordbot": {
        "bot.core",
        "bot.djp",
        "bot.osv",
        "bot.messages",
        "bot.refresh",
        "bot.delivery",
        "bot.app",
        "bot.process",
        "storage",
        "cogs",
    },
    "cogs": {
        "bot.core",
        "bot.djp",
        "bot.osv",
        "bot.messages",
        "bot.refresh",
        "bot.delivery",
        "bot.app",
        "bot.process",
        "bot.discordbot",
        "storage",
    },
    "bot.cli": {
        "bot.core",
        "bot.djp",
        "bot.osv",
        "bot.messages",
        "bot.refresh",
        "bot.delivery",
        "bot.app",
        "bot.process",
        "bot.discordbot",
        "storage",
    },
}

#: Third-party libraries that mean I/O or Discord, and the layers that may use them.
IO_LIBRARIES = {"discord", "httpx", "sqlalchemy", "aiohttp", "asyncpg", "aiosqlite", "alembic"}
DISCORD_LAYERS = {"bot.discordbot", "cogs"}


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
