"""Reading a team's requirements from each file format, and refusing what cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.requirements import MAX_BYTES, Pinned, RequirementsError, read_requirements
from tests.plugins.data import UV_LOCK

DATA = Path(__file__).parents[1] / "data" / "requirements"


def read(name: str, filename: str | None = None) -> tuple[Pinned, ...]:
    return read_requirements(filename or name, (DATA / name).read_bytes()).entries


def test_requirements_txt_pins_ranges_and_skips_what_names_no_package() -> None:
    found = read_requirements("requirements.txt", (DATA / "requirements.txt").read_bytes())

    assert found.entries == (
        Pinned("django-debug-toolbar", "==3.2", "3.2"),
        Pinned("django-flatblocks", "<1.1,>=1.0", None),
        Pinned("requests", "==2.31.0", "2.31.0"),
    )
    assert found.skipped == 2  # `-r requirements-base.txt` and `./vendor/our-theme`


def test_pyproject_reads_dependencies_extras_and_groups() -> None:
    names = [entry.name for entry in read("pyproject.toml")]

    assert names == [
        "django-debug-toolbar",
        "django-flatblocks",
        "django-rest-registration",
        "pytest",
        "ruff",
    ]


def test_uv_lock_locks_every_package_but_the_project_itself() -> None:
    found = read_requirements("uv.lock", UV_LOCK).entries

    assert [(entry.name, entry.version) for entry in found] == [
        ("asgiref", "3.8.1"),
        ("django", "4.2.11"),
        ("django-debug-toolbar", "3.2.1"),
        ("sqlparse", "0.5.0"),
    ]


@pytest.mark.parametrize(
    "filename", ["requirements.txt", "requirements/base.txt", "production.txt", "requirements.in"]
)
def test_any_txt_or_in_file_is_a_requirements_file(filename: str) -> None:
    found = read_requirements(filename, b"django-flatblocks==1.0.0\n")

    assert found.format == "requirements"
    assert found.entries == (Pinned("django-flatblocks", "==1.0.0", "1.0.0"),)


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("pyproject.toml", (DATA / "broken-pyproject.toml").read_bytes(), "is not valid TOML"),
        ("setup.cfg", b"[metadata]\n", "is not a file I can read"),
        ("requirements.txt", b"django===\n", "Line 1 is not a requirement"),
        ("requirements.txt", b"\xff\xfe", "is not UTF-8 text"),
        ("requirements.txt", b"#" * (MAX_BYTES + 1), "KiB"),
        ("uv.lock", b"version = 1\n", r"lists no \[\[package\]\] entries"),
    ],
    ids=["malformed-toml", "unknown-format", "bad-line", "not-utf8", "oversized", "empty-lock"],
)
def test_unreadable_files_are_one_sentence(filename: str, content: bytes, message: str) -> None:
    with pytest.raises(RequirementsError, match=message):
        read_requirements(filename, content)
