"""The declared dependencies: every distribution the code imports is declared, and the floors
stand past the advisories that reach the bot's paths (no online audit: CI cannot reach an
advisory database, so the floors are checked here against the versions the advisories fixed)."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"bot", "cogs", "storage"}
#: Imported, but released in lockstep with a declared distribution that pins it exactly.
PINNED_BY = {"pydantic_core": "pydantic"}
#: The first version past each advisory; every version below it must be refused.
FIXED = {
    "orjson": "3.9.15",  # deep-JSON recursion
    "aiohttp": "3.12.14",  # request smuggling (the metrics server)
    "h11": "0.16",  # request smuggling (httpx's HTTP/1.1 parser)
    "idna": "3.7",  # quadratic time on crafted input
    "pillow": "10.3",  # buffer overflow in _imagingcms
}


def requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    parsed = (Requirement(line) for line in project["dependencies"])
    return {canonicalize_name(requirement.name): requirement for requirement in parsed}


def imported_modules() -> set[str]:
    """Top-level modules the application imports (not the tests)."""
    modules: set[str] = set()
    for package in FIRST_PARTY:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.partition(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.partition(".")[0])
    return modules - FIRST_PARTY - set(sys.stdlib_module_names)


def test_every_imported_distribution_is_declared() -> None:
    distributions = packages_distributions()
    declared = set(requirements())

    undeclared = {
        module: distributions.get(module)
        for module in imported_modules()
        if not {canonicalize_name(d) for d in distributions.get(module, [])} & declared
        and PINNED_BY.get(module) not in declared
    }

    assert undeclared == {}


@pytest.mark.parametrize(("name", "fixed"), sorted(FIXED.items()))
def test_floors_are_past_the_known_advisories(name: str, fixed: str) -> None:
    specifier = requirements()[name].specifier
    floors = [Version(item.version) for item in specifier if item.operator == ">="]

    assert floors, f"{name} has no floor"
    assert min(floors) >= Version(fixed), specifier
