"""Running one parsed command: logging, the event loop, and how it ends.

A `SentinelError` is one line on stderr and exit 1. A reader that goes away (`| head`) ends
the command quietly with the status a shell gives a process killed by SIGPIPE (141): the
output nobody reads is dropped, and no traceback follows it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bot.cli.main import EXIT_FAILURE
from bot.config import Settings
from bot.core.printable import printable
from bot.errors import SentinelError
from bot.logs import configure_logging, redact

EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE

Handler = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def run_command(handler: Handler, args: argparse.Namespace, settings: Settings) -> int:
    """Run `handler` to its exit status."""
    secrets = settings.secrets
    configure_logging(settings.log_level, secrets=secrets, log_format=settings.log_format)
    try:
        code = asyncio.run(handler(args, settings))
        sys.stdout.flush()  # a closed pipe shows here when the output fit in the buffer
    except SentinelError as exc:
        print(f"error: {printable(redact(exc.user_message, secrets))}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    return code


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit does not fail a second time."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's buffer)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)
