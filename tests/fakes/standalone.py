"""What every fake run as a program (`python -m tests.fakes.…`) shares: it serves until Ctrl+C,
and a port already taken (another fake, or the same one started twice) is one line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Coroutine
from typing import Any


def serve_until_interrupted(serve: Coroutine[Any, Any, None], ports: str) -> None:
    """Run `serve` until Ctrl+C; `ports` names what it listens on, for the one-line error."""
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        sys.exit(f"error: cannot listen on 127.0.0.1 {ports}: {reason}")
