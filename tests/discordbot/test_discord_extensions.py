"""Every module under `cogs/` is an extension the bot can load."""

from __future__ import annotations

import importlib

import pytest

from bot.discordbot.bot import extensions

EXPECTED = {
    "background",
    "departures",
    "grids",
    "help",
    "packages",
    "readiness",
    "reports",
    "settings",
    "watch",
}


def test_every_cog_module_is_found() -> None:
    assert {name.removeprefix("cogs.") for name in extensions()} == EXPECTED


@pytest.mark.parametrize("name", extensions())
def test_extension_imports_and_exposes_setup(name: str) -> None:
    module = importlib.import_module(name)

    assert callable(getattr(module, "setup", None))
