"""`djp-sentinel check FILE`: a team's requirements against the fake Django Packages and the
fake OSV (real records), with each exit status, and no database touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.osv_api import FakeOsv
from tests.fakes.pypi_api import FakePypi
from tests.plugins.cli import djp_sentinel
from tests.plugins.data import UV_LOCK

DATA = Path(__file__).parents[1] / "data" / "requirements"


@pytest.fixture
def env(cli_env: dict[str, str], osv_api: FakeOsv) -> dict[str, str]:
    return cli_env | {"OSV_API_URL": osv_api.base_url}


async def test_an_affected_pin_exits_1_and_says_what_fixes_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = await djp_sentinel(env, tmp_path, "check", str(DATA / "requirements.txt"))

    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].split() == [
        "django-debug-toolbar",
        "django-debug-toolbar",
        "pinned",
        "3.2",
        "latest",
        "6.0.0",
        "a",
        "major",
        "release",
        "behind",
        "(3.2",
        "→",
        "6.0.0)",
    ]
    assert lines[1].startswith("  ! GHSA-pghf-347x-c2gj (HIGH; PYSEC-2021-10, CVE-2021-30459): ")
    assert lines[1].endswith("fixed in 3.2.1")
    assert "requests" in lines[-2]
    assert "not listed" in lines[-2]
    assert lines[-1] == "1 pinned requirement affected by an advisory."
    assert not (tmp_path / "cli.db").exists()  # no database, not even created


async def test_json_lists_each_requirement(env: dict[str, str], tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_bytes(UV_LOCK)
    result = await djp_sentinel(env, tmp_path, "check", str(lock), "--json", "--django", "5.2")

    assert result.code == 1  # django 4.2.11 is locked, and PYSEC-2024-70 affects it
    found = {entry["name"]: entry for entry in json.loads(result.out)}
    assert found["django-debug-toolbar"] == {
        "name": "django-debug-toolbar",
        "slug": "django-debug-toolbar",
        "pinned": "3.2.1",
        "latest": "6.0.0",
        "advisories": [],
        "django": "unknown",
    }
    [advisory] = found["django"]["advisories"]
    assert advisory["id"] == "PYSEC-2024-70"
    assert set(advisory) == {
        "id",
        "aliases",
        "summary",
        "severity",
        "fixed",
        "affects_latest",
        "withdrawn",
        "fixed_for_pin",
    }
    assert found["django"]["slug"] is None


async def test_nothing_affected_exits_0(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("django-debug-toolbar==3.2.1\ndjango-flatblocks\n")

    result = await djp_sentinel(env, tmp_path, "check", "requirements.txt")

    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "No advisory affects a pinned version."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((str(DATA / "broken-pyproject.toml"),), "is not a file I can read"),
        (("missing-requirements.txt",), "cannot read missing-requirements.txt"),
        ((str(DATA / "requirements.txt"), "--django", "five"), "is not a Django version"),
    ],
    ids=["unknown-format", "missing-file", "bad-django"],
)
async def test_usage_and_input_errors_exit_2(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = await djp_sentinel(env, tmp_path, "check", *args)

    assert result.code == 2
    assert message in result.err


async def test_a_malformed_file_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes((DATA / "broken-pyproject.toml").read_bytes())

    result = await djp_sentinel(env, tmp_path, "check", "pyproject.toml")

    assert result.code == 2
    assert result.err.startswith("error: pyproject.toml is not valid TOML")


async def test_osv_unreachable_concludes_nothing(
    env: dict[str, str], osv_api: FakeOsv, tmp_path: Path
) -> None:
    osv_api.failure = "down"

    result = await djp_sentinel(env, tmp_path, "check", str(DATA / "requirements.txt"))

    assert result.code == 2
    assert result.err == "error: OSV answered HTTP 503. Nothing was checked.\n"


@pytest.fixture
def pypi_env(pypi_cli_env: dict[str, str], osv_api: FakeOsv, tmp_path: Path) -> dict[str, str]:
    """PyPI on (the seeded fake: django-flatblocks declares Django 2.2-4.0,
    django-rest-registration no Django version, requests is not there), with a file asking
    for the three."""
    (tmp_path / "requirements.txt").write_text(
        "django-flatblocks\ndjango-rest-registration\nrequests==2.31.0\n"
    )
    return pypi_cli_env | {"OSV_API_URL": osv_api.base_url}


async def django_column(env: dict[str, str], cwd: Path, django: str) -> dict[str, object]:
    result = await djp_sentinel(env, cwd, "check", "requirements.txt", "--json", "--django", django)
    assert result.code == 0, result.err
    return {entry["name"]: entry["django"] for entry in json.loads(result.out)}


async def test_django_says_whether_the_latest_release_declares_the_version(
    pypi_env: dict[str, str], tmp_path: Path
) -> None:
    assert await django_column(pypi_env, tmp_path, "4.0") == {
        "django-flatblocks": "ready",
        "django-rest-registration": "unknown",  # its release declares no Django version
        "requests": "unknown",  # PyPI has no such project
    }
    assert (await django_column(pypi_env, tmp_path, "5.2"))["django-flatblocks"] == "no"


async def test_django_follows_the_latest_release(
    pypi_env: dict[str, str], pypi_api: FakePypi, tmp_path: Path
) -> None:
    pypi_api.publish("django-flatblocks", "3.14.0", django=["4.2", "5.2"])

    assert (await django_column(pypi_env, tmp_path, "5.2"))["django-flatblocks"] == "ready"
    assert (await django_column(pypi_env, tmp_path, "4.0"))["django-flatblocks"] == "no"


async def test_the_table_says_django_support(pypi_env: dict[str, str], tmp_path: Path) -> None:
    result = await djp_sentinel(pypi_env, tmp_path, "check", "requirements.txt", "--django", "4.0")

    assert result.code == 0, result.err
    [flatblocks, registration, requests, verdict] = result.out.splitlines()
    assert flatblocks.startswith("django-flatblocks ")
    assert flatblocks.endswith("  Django ready")
    assert registration.endswith("  Django unknown")
    assert requests.endswith("  Django unknown")
    assert verdict == "No advisory affects a pinned version."


async def test_pypi_down_makes_django_unknown_not_an_error(
    pypi_env: dict[str, str], pypi_api: FakePypi, tmp_path: Path
) -> None:
    pypi_api.inject("503", times=100)

    assert await django_column(pypi_env, tmp_path, "4.0") == dict.fromkeys(
        ["django-flatblocks", "django-rest-registration", "requests"], "unknown"
    )
    # The first failure (two attempts each, as many at once as the client's concurrency)
    # stops the asking: the other names are not sent.
    assert len(pypi_api.requests_for("/json")) <= 2 * 2

    result = await djp_sentinel(pypi_env, tmp_path, "check", "requirements.txt", "--django", "4.0")

    assert result.code == 0
    assert "PyPI kept failing" in result.err
    assert result.out.splitlines()[0].endswith("  Django unknown")


async def test_pypi_off_makes_django_unknown_and_says_so(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "requirements.txt").write_text("django-flatblocks\n")

    result = await djp_sentinel(env, tmp_path, "check", "requirements.txt", "--django", "4.0")

    assert result.code == 0, result.err
    assert result.out.splitlines()[0].endswith("  Django unknown")
    assert result.out.splitlines()[-1] == "Django support not checked: PYPI_URL is empty."


README = Path(__file__).parents[2] / "README.md"


async def test_the_readme_example_runs_as_written(
    pypi_cli_env: dict[str, str], osv_api: FakeOsv
) -> None:
    text = README.read_text()
    block = text[text.index("<!-- readme-check:") :].split("```console\n", 1)[1].split("```")[0]
    lines = block.splitlines()
    command = next(line for line in lines if line.startswith("$ djp-sentinel check"))
    shown = lines[lines.index(command) + 1 : lines.index("$ echo $?")]
    env = pypi_cli_env | {"OSV_API_URL": osv_api.base_url}

    result = await djp_sentinel(env, README.parent, *command.split()[2:])

    assert result.out.splitlines() == shown
    assert str(result.code) == lines[lines.index("$ echo $?") + 1]
