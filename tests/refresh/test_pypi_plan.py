"""Which projects the PyPI pass asks, and how far its journal cursor moves: from values alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.pypi import PypiProject
from bot.core.pypi_checks import Journal, PypiTarget, StoredProject
from bot.refresh.pypi_compare import Answer, PypiReply
from bot.refresh.pypi_plan import SAFETY_PERIOD, next_cursor, plan_pass, safety_period

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(hours=6)
DUE_BY = NOW + INTERVAL / 10
LAST_PASS = NOW - INTERVAL
CURSOR = 1000


def target(pid: int, name: str) -> PypiTarget:
    """A followed project, answered at the last pass and due now."""
    return PypiTarget(
        pid, f"https://pypi.org/project/{name}/", '"e"', LAST_PASS, NOW, 0, asked_as=name
    )


FLATBLOCKS = target(1, "django-flatblocks")
CRISPY = target(2, "django-crispy-forms")
TARGETS = [FLATBLOCKS, CRISPY]


def asked(targets: list[PypiTarget], journal: Journal | None) -> list[str]:
    plan = plan_pass(targets, journal, start=None, now=NOW, due_by=DUE_BY)
    return [name for _, name in plan.ask]


@pytest.mark.parametrize(
    ("targets", "named", "expected"),
    [
        (TARGETS, {}, []),  # nothing moved: no request at all
        (TARGETS, {"django-flatblocks": 1003}, ["django-flatblocks"]),
        (TARGETS, {"somebody-elses": 1001}, []),
        # never answered (a newly watched package)
        ([replace(CRISPY, checked_at=None, asked_as=None, etag=None)], {}, ["django-crispy-forms"]),
        ([replace(CRISPY, failure_count=1)], {}, ["django-crispy-forms"]),  # failed last time
        ([replace(CRISPY, asked_as="crispy-forms")], {}, ["django-crispy-forms"]),  # re-pointed
        # answered within the interval: not asked twice in one, named or not
        ([replace(FLATBLOCKS, next_check_at=NOW + INTERVAL)], {"django-flatblocks": 1003}, []),
        # backing off after a failure: asked once the backoff is over
        ([replace(FLATBLOCKS, failure_count=2, next_check_at=NOW + 2 * INTERVAL)], {}, []),
        ([replace(FLATBLOCKS, checked_at=NOW - 2 * SAFETY_PERIOD)], {}, ["django-flatblocks"]),
        ([replace(FLATBLOCKS, pypi_url="https://example.com/")], {"django-flatblocks": 1003}, []),
    ],
    ids=[
        "unchanged",
        "named",
        "someone-else-named",
        "new",
        "failed",
        "re-pointed",
        "asked-this-interval",
        "backing-off",
        "past-its-safety-period",
        "no-project-name",
    ],
)
def test_with_the_journal_only_the_named_and_the_unfollowed_are_asked(
    targets: list[PypiTarget], named: dict[str, int], expected: list[str]
) -> None:
    assert asked(targets, Journal(CURSOR + 5, named)) == expected


def test_without_the_journal_every_due_project_is_asked() -> None:
    not_due = replace(CRISPY, next_check_at=NOW + INTERVAL)

    assert asked([FLATBLOCKS, not_due], None) == ["django-flatblocks"]


def test_safety_periods_are_spread_between_one_and_two_periods() -> None:
    periods = [safety_period(pid) for pid in range(1, 6001)]
    days = sorted({period.days for period in periods})

    assert min(periods) >= SAFETY_PERIOD
    assert max(periods) < 2 * SAFETY_PERIOD
    assert days == list(range(SAFETY_PERIOD.days, 2 * SAFETY_PERIOD.days))
    # a sweep's 6,000 answers come due a few at a time, as many on each six-hour pass of the
    # spread, not all on one
    passes = SAFETY_PERIOD // INTERVAL
    per_pass = max(
        sum(1 for p in periods if start <= p < start + INTERVAL)
        for start in (SAFETY_PERIOD + INTERVAL * n for n in range(passes))
    )
    assert per_pass <= 1.1 * len(periods) / passes


def project(serial: int | None) -> PypiProject:
    return PypiProject("django-flatblocks", "3.14.0", NOW, None, (), False, None, serial=serial)


def reply_to(aimed: PypiTarget, reply: PypiReply) -> Answer:
    return Answer(aimed, str(aimed.asked_as), reply)


FRESH = PypiReply(project(1003), '"e2"')
NOT_MODIFIED = PypiReply(etag='"e"')
FAILED = PypiReply(error="PyPI kept failing")
STORED = {FLATBLOCKS.package_id: StoredProject(project(990), ())}


def cursor_after(
    targets: list[PypiTarget], named: dict[str, int], replies: dict[int, PypiReply]
) -> int | None:
    plan = plan_pass(targets, Journal(1010, named), now=NOW, due_by=DUE_BY)
    answers = [reply_to(t, replies[t.package_id]) for t, _ in plan.ask if t.package_id in replies]
    return next_cursor(plan, answers, STORED)


@pytest.mark.parametrize(
    ("targets", "named", "replies", "cursor"),
    [
        (TARGETS, {}, {}, 1010),  # nothing named: to the newest serial read
        (TARGETS, {"django-flatblocks": 1003}, {1: FRESH}, 1010),
        (TARGETS, {"django-flatblocks": 1003}, {1: FAILED}, 1010),  # the failure asks again
        # the answer is older than the change the journal names: read from it again
        (TARGETS, {"django-flatblocks": 1003}, {1: PypiReply(project(1001), '"e1"')}, 1002),
        (TARGETS, {"django-flatblocks": 1003}, {1: NOT_MODIFIED}, 1002),  # stored: 990
        # a PyPI that sends no serial cannot be caught out: its answer counts as current
        (TARGETS, {"django-flatblocks": 1003}, {1: PypiReply(project(None), '"e1"')}, 1010),
        # named, but asked within this interval already: its change waits for the next pass
        (
            [replace(FLATBLOCKS, next_check_at=NOW + INTERVAL), CRISPY],
            {"django-flatblocks": 1003, "django-crispy-forms": 1007},
            {2: PypiReply(project(1007), '"e3"')},
            1002,
        ),
        # named, not reached (the pass gave up): the same
        (TARGETS, {"django-flatblocks": 1003, "django-crispy-forms": 1007}, {1: FRESH}, 1006),
    ],
    ids=[
        "nothing-named",
        "answered",
        "failed",
        "stale-answer",
        "stale-304",
        "no-serial",
        "not-due",
        "not-reached",
    ],
)
def test_the_cursor_never_passes_a_change_not_yet_read(
    targets: list[PypiTarget],
    named: dict[str, int],
    replies: dict[int, PypiReply],
    cursor: int,
) -> None:
    assert cursor_after(targets, named, replies) == cursor


@pytest.mark.parametrize(
    ("targets", "answered", "start", "cursor"),
    [
        (TARGETS, {1, 2}, 1200, 1200),  # every project asked: start from the serial read first
        (TARGETS, {1, 2}, None, None),  # the journal's serial unknown: the cursor stays
        (TARGETS, {1}, 1200, None),  # the pass gave up before the end
        ([FLATBLOCKS, replace(CRISPY, next_check_at=NOW + INTERVAL)], {1}, 1200, None),
        # one not due but unfollowed anyway (backing off): it is asked when due, whatever
        (
            [FLATBLOCKS, replace(CRISPY, failure_count=1, next_check_at=NOW + INTERVAL)],
            {1},
            1200,
            1200,
        ),
    ],
    ids=["complete", "no-serial", "gave-up", "one-not-due", "one-backing-off"],
)
def test_after_a_sweep_the_cursor_moves_only_when_every_project_was_asked(
    targets: list[PypiTarget], answered: set[int], start: int | None, cursor: int | None
) -> None:
    plan = plan_pass(targets, None, start=start, now=NOW, due_by=DUE_BY)
    answers = [reply_to(t, NOT_MODIFIED) for t, _ in plan.ask if t.package_id in answered]

    assert next_cursor(plan, answers, STORED) == cursor
