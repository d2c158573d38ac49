"""The README's runnable console example works as written against the fake it documents.

The blocks after the `readme-test` markers are run line by line: each `$ djp-sentinel …` command
runs (in order, on one database) against the seeded fake Django Packages API, exits 0 (or 1
where the README shows an `error:` line), and prints every output line the README shows.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.plugins.cli import djp_sentinel

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- readme-test:"
PYPI_MARKER = "<!-- readme-test-pypi:"
SIZE = re.compile(r"\(\d[\d,]* bytes\)")


def runnable_example(marker: str = MARKER) -> list[tuple[list[str], list[str]]]:
    """(command arguments, output lines shown) for each `djp-sentinel` line of the block."""
    text = README.read_text()
    block = text[text.index(marker) :].split("```console\n", 1)[1].split("```", 1)[0]
    steps: list[tuple[list[str], list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ djp-sentinel "):
            steps.append((shlex.split(line)[2:], []))
        elif not line.startswith("$ ") and steps:
            steps[-1][1].append(line)
    return steps


def test_the_example_names_the_fake_it_runs_against() -> None:
    text = README.read_text()
    block = text[text.index(MARKER) :].split("```", 2)[1]
    assert "python -m tests.fakes.djp_api --port 8765" in block
    assert "DJP_API_URL=http://127.0.0.1:8765/api/v4/" in block


def sized(line: str) -> str:
    """A chart's size (it may vary a little with Pillow's version) left out of a line."""
    return SIZE.sub("(N bytes)", line.rstrip())


async def test_every_readme_command_runs_as_written(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    steps = runnable_example()
    assert len(steps) >= 5
    await runs_as_shown(steps, cli_env, tmp_path)


async def test_the_pypi_example_runs_as_written(
    pypi_cli_env: dict[str, str], tmp_path: Path
) -> None:
    text = README.read_text()
    block = text[text.index(PYPI_MARKER) :].split("```", 2)[1]
    assert "python -m tests.fakes.pypi_api --port 8766" in block
    assert "PYPI_URL=http://127.0.0.1:8766/ ENDOFLIFE_URL=http://127.0.0.1:8767/api/" in block
    await runs_as_shown(runnable_example(PYPI_MARKER), pypi_cli_env, tmp_path)


async def runs_as_shown(
    steps: list[tuple[list[str], list[str]]], env: dict[str, str], tmp_path: Path
) -> None:
    """Run each step on one database; each exits as its output says and prints what it shows."""
    for args, shown in steps:
        result = await djp_sentinel(env | {"COLUMNS": "80"}, tmp_path, *args)
        expected_code = 1 if any(line.startswith("error:") for line in shown) else 0
        assert result.code == expected_code, f"djp-sentinel {shlex.join(args)}: {result.err}"
        printed = [sized(line) for line in (result.out + result.err).splitlines()]
        for line in shown:
            assert sized(line) in printed, (args, line, printed)
