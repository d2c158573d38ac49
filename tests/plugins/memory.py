"""Fixtures: the peak of Python's allocations during a test, for bounds on what input costs."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def peak_bytes() -> Iterator[Callable[[], int]]:
    """Traces allocations from here on; call it for the peak so far, in bytes."""
    tracemalloc.start()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
