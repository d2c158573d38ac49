"""Running the `djp-sentinel` command line against the fakes: in-process, or as a process.

Most CLI tests call `main()` in a worker thread (its `asyncio.run` needs a thread without a
running loop, and the test's loop keeps serving the fakes meanwhile), with the environment,
working directory, standard streams and logging set up as a fresh process would have them.
A few tests start the installed console script as a real process, to prove the entry point,
exit codes and signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from bot.cli.main import main
from bot.logs import CHATTY_LOGGERS, OWN_LOGGERS
from tests.fakes.discord_api import WEBHOOK_TEST_HOST
from tests.fakes.djp_api import FakeDjangoPackages

#: The console script `pip install` made for this interpreter.
CONSOLE_SCRIPT = Path(sys.executable).with_name("djp-sentinel")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli_env(djp_api: FakeDjangoPackages, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "DATABASE_URL"}}
    env |= {
        "DJP_API_URL": djp_api.base_url,
        "OSV_API_URL": "",
        "PYPI_URL": "",  # off unless a test points them at their fakes (`pypi_cli_env`)
        "ENDOFLIFE_URL": "",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "LOG_LEVEL": "WARNING",
        "COLUMNS": "120",
        "WEBHOOK_TEST_HOST": WEBHOOK_TEST_HOST,
    }
    return env


async def djp_sentinel(env: dict[str, str], cwd: Path, *args: str) -> Result:
    """Run the CLI in this process, as `djp-sentinel ARGS` would run in `cwd` with `env`."""
    return await asyncio.to_thread(_run_main, env, cwd, list(args))


async def djp_sentinel_process(
    env: dict[str, str], cwd: Path, *args: str, stdout: int = asyncio.subprocess.PIPE
) -> Result:
    """Run the installed console script while this event loop keeps serving the fakes
    (`stdout`: a file descriptor to write to instead of a pipe read here)."""
    return await run_process(env, cwd, str(CONSOLE_SCRIPT), *args, stdout=stdout)


async def run_process(
    env: dict[str, str], cwd: Path, *command: str, stdout: int = asyncio.subprocess.PIPE
) -> Result:
    """Run `command` as a process while this event loop keeps serving the fakes."""
    process = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=cwd, stdout=stdout, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Result(process.returncode, (out or b"").decode(), err.decode())


def _run_main(env: dict[str, str], cwd: Path, argv: list[str]) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env, clear=True),
        contextlib.chdir(cwd),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        _logging_restored(),
    ):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    """Let `main()` configure logging as at process start, then put pytest's set-up back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    chatty = {name: logging.getLogger(name).level for name in (*CHATTY_LOGGERS, *OWN_LOGGERS)}
    root.handlers.clear()  # `basicConfig(force=True)` would close pytest's capture handlers
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, chatty_level in chatty.items():
            logging.getLogger(name).setLevel(chatty_level)
