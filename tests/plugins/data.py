"""Fixtures built from the real API responses in `tests/data/`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SEED_SLUGS = (
    "django-flatblocks",
    "django-rest-registration",
    "django-cache-machine",
    "django-queued-storage",
    "djangocms-filer-display-pages-where-files-are-used",
)

#: A team's `uv.lock`: the project (editable) and the four packages it locks. Kept here as
#: text, not as a lock file in the repository, and without the registry sources uv writes
#: (`/watch import` and `check` read names and versions only).
UV_LOCK = b"""\
version = 1
revision = 2
requires-python = ">=3.11"

[[package]]
name = "asgiref"
version = "3.8.1"

[[package]]
name = "django"
version = "4.2.11"
dependencies = [
    { name = "asgiref" },
    { name = "sqlparse" },
]

[[package]]
name = "django-debug-toolbar"
version = "3.2.1"
dependencies = [
    { name = "django" },
    { name = "sqlparse" },
]

[[package]]
name = "sqlparse"
version = "0.5.0"

[[package]]
name = "team-site"
version = "1.4.0"
source = { editable = "." }
dependencies = [
    { name = "django-debug-toolbar" },
]
"""


def load_json(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text())


def seed_package(slug: str) -> dict[str, Any]:
    """A fresh copy of one seed package payload (safe to mutate)."""
    return load_json(f"package-{slug}.json")


@pytest.fixture
def flatblocks_payload() -> dict[str, Any]:
    return seed_package("django-flatblocks")


@pytest.fixture
def seed_payloads() -> list[dict[str, Any]]:
    return [seed_package(slug) for slug in SEED_SLUGS]
