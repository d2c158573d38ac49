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
