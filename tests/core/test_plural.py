"""Counts in words agree with their nouns."""

from __future__ import annotations

import pytest

from bot.core.plural import counted


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 grids"), (1, "1 grid"), (2, "2 grids"), (1200, "1,200 grids")]
)
def test_a_count_agrees_with_its_noun(count: int, expected: str) -> None:
    assert counted(count, "grid") == expected


def test_an_irregular_plural_is_given() -> None:
    assert [counted(n, "pass", "passes") for n in (1, 3)] == ["1 pass", "3 passes"]
