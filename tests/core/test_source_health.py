"""How an optional source's passes add up: what `/status` shows and when endoflife.date is
asked again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.source_health import ERROR_LINE, SourceHealth, SourceRun, error_line

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
READ = SourceRun(requests=1, not_modified=1, read=True)
DOWN = SourceRun(requests=2, failures=1, error="endoflife.date kept failing (HTTP 503)")


def runs(*steps: SourceRun) -> SourceHealth:
    """The health after `steps`, one an hour."""
    health = SourceHealth.first(steps[0], START)
    for hours, step in enumerate(steps[1:], start=1):
        health = health.after(step, START + hours * HOUR)
    return health


def test_a_failed_run_keeps_the_last_good_read_and_says_what_went_wrong() -> None:
    health = runs(READ, DOWN)

    assert health.read_at == START
    assert health.failed_runs == 1
    assert health.last == DOWN
    assert health.last_error == "endoflife.date kept failing (HTTP 503)"
    assert health.last_error_at == START + HOUR


def test_a_good_read_ends_the_failures_but_the_last_error_stays_with_its_time() -> None:
    health = runs(DOWN, DOWN, READ)

    assert (health.failed_runs, health.read_at) == (0, START + 2 * HOUR)
    assert health.last_error_at == START + HOUR


def test_a_run_that_failed_some_projects_but_read_others_is_not_a_failed_run() -> None:
    partly = SourceRun(requests=30, not_modified=20, failures=3, read=True, error="gone")

    assert runs(DOWN, partly).failed_runs == 0


def test_a_run_with_nothing_due_moves_only_the_pass_time() -> None:
    health = runs(DOWN, SourceRun())

    assert health.checked_at == START + HOUR
    assert health.last == SourceRun()
    assert (health.failed_runs, health.last_error) == (1, DOWN.error)


def test_after_a_good_read_the_next_is_a_day_later() -> None:
    assert runs(READ).next_ask(DAY, HOUR) == START + DAY


def test_after_failures_the_wait_starts_at_an_hour_and_doubles_up_to_a_day() -> None:
    waits = []
    health = SourceHealth.first(DOWN, START)
    for _ in range(7):
        asked_at = health.next_ask(DAY, HOUR)
        waits.append(asked_at - health.checked_at)
        health = health.after(DOWN, asked_at)

    assert waits == [HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 16 * HOUR, DAY, DAY]


def test_what_is_stored_reads_back_the_same() -> None:
    health = runs(READ, SourceRun(requests=9, failures=3, gave_up=True, error="down"))

    assert SourceHealth.from_json(health.to_json()) == health


def test_an_error_is_shown_as_one_short_line_without_credentials() -> None:
    text = "PyPI refused https://me:s3cret@index.example/pypi/x/json with HTTP 401.\nTraceback"

    assert error_line(text) == "PyPI refused https://***@index.example/pypi/x/json with HTTP 401."
    assert len(error_line("x" * 1000)) == ERROR_LINE
    assert error_line("  ") == "unknown error"
