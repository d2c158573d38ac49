"""Which watched projects the PyPI pass asks, and how far its journal cursor moves: the pure
step before `pypi_compare` (the shell is `pypi_pass`).

With PyPI's journal read since the cursor, a due project is asked when the journal names it,
when the pass does not follow it yet (`_unfollowed`: never answered, its last request failed,
or its `pypi_url` now names another project), or when its last answer is older than its
safety period (`safety_period`). Any other project has not changed, and costs nothing.
Without the journal (no cursor yet, or the journal unreadable or cut short) every due project
is asked: a sweep, as every pass did before the journal was read.

The cursor moves to the newest serial read, but never past a change whose project is not
settled: named, followed, and either not asked (not due yet, or the pass gave up) or answered
with an answer older than the change (a cache that has not caught up; PyPI's `last_serial`
tells). The journal is read from that change again next pass, so the project is asked again.
A failed request needs no hold: the failure itself makes the project asked next time. After a
sweep the cursor moves to the serial read before the first request, and only when every
project was asked or is unfollowed; otherwise it stays where it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.pypi_checks import Journal, PypiTarget, StoredProject
from bot.core.pypi_names import pypi_project_name
from bot.refresh.pypi_compare import Answer

#: An answer is asked again once it is this old, plus up to as long again (`safety_period`),
#: even when the journal never named its project: a guard against a change the journal did
#: not lead us to (a cache behind during a sweep, a name spelt in a way we normalise
#: differently). Each re-check of an unchanged project is one 304; at two to four weeks, 1-2%
#: of the watched projects are re-checked on a 6-hour pass.
SAFETY_PERIOD = timedelta(days=14)
_SPREAD = 2**32
#: Knuth's multiplicative hash: consecutive package ids land far apart in the spread.
_GOLDEN = 2654435761


def safety_period(package_id: int) -> timedelta:
    """How old a project's answer may grow unasked: between `SAFETY_PERIOD` and twice that,
    fixed per package and spread evenly, so the projects a sweep answered together fall due
    a few at a time rather than all on one pass."""
    return SAFETY_PERIOD * (1 + (package_id * _GOLDEN) % _SPREAD / _SPREAD)


@dataclass(frozen=True, slots=True)
class Plan:
    """The projects to ask (each due target with its project name), the packages followed
    that were asked before (a target whose link names a project: any other stored answer is
    no longer kept up to date), and what `next_cursor` needs: the journal read (None: a
    sweep) or, for a sweep, the serial read before asking."""

    ask: list[tuple[PypiTarget, str]]
    followed: frozenset[int]
    journal: Journal | None
    start: int | None = None
    #: Serials of changes to followed projects that this pass does not ask about.
    held: tuple[int, ...] = ()
    #: A sweep asks (or the pass follows anyway) every project.
    complete: bool = True


def _unfollowed(target: PypiTarget, name: str) -> bool:
    """Asked whatever the journal says: never answered, failed last time, or re-pointed."""
    return target.checked_at is None or target.failure_count > 0 or target.asked_as != name


def _overdue(target: PypiTarget, now: datetime) -> bool:
    checked_at = target.checked_at
    return checked_at is not None and now - checked_at >= safety_period(target.package_id)


def plan_pass(
    targets: Sequence[PypiTarget],
    journal: Journal | None,
    *,
    start: int | None = None,
    now: datetime,
    due_by: datetime,
) -> Plan:
    """The due targets to ask, given the journal since the cursor (None: ask every due one,
    `start` being the journal's newest serial read before asking, when known)."""
    ask: list[tuple[PypiTarget, str]] = []
    followed: set[int] = set()
    held: list[int] = []
    complete = True
    for target in targets:
        name = pypi_project_name(target.pypi_url)
        if name is None:
            continue
        if target.asked_as is not None:
            followed.add(target.package_id)
        due = target.next_check_at is None or target.next_check_at <= due_by
        named = journal is None or name in journal.named
        unfollowed = _unfollowed(target, name)
        if due and (named or unfollowed or _overdue(target, now)):
            ask.append((target, name))
        elif named and not unfollowed:  # asked within the interval: its change waits
            if journal is None:
                complete = False
            else:
                held.append(journal.named[name])
    return Plan(ask, frozenset(followed), journal, start, tuple(held), complete)


def stored_needed(plan: Plan, answers: Sequence[Answer]) -> set[int]:
    """The packages whose stored answer the pass reads: each new answer is compared with it,
    and a named project answered 304 is as recent as it (`next_cursor`)."""
    named = plan.journal.named if plan.journal is not None else {}
    return {
        answer.target.package_id
        for answer in answers
        if answer.reply.project is not None or (answer.reply.error is None and answer.name in named)
    }


def next_cursor(
    plan: Plan, answers: Sequence[Answer], stored: Mapping[int, StoredProject]
) -> int | None:
    """Where the journal cursor moves after the pass's `answers` (None: it stays), with
    `stored` holding the answers kept before the pass (a 304 confirms one)."""
    asked = {answer.target.package_id for answer in answers}
    if plan.journal is None:
        swept = plan.complete and all(target.package_id in asked for target, _ in plan.ask)
        return plan.start if swept else None
    named = plan.journal.named
    held = [*plan.held]
    held += [
        named[name]
        for target, name in plan.ask
        if name in named and target.package_id not in asked and not _unfollowed(target, name)
    ]
    held += [
        named[answer.name]
        for answer in answers
        if answer.name in named and _older(_serial_of(answer, stored), named[answer.name])
    ]
    return min([plan.journal.serial, *(serial - 1 for serial in held)])


def _serial_of(answer: Answer, stored: Mapping[int, StoredProject]) -> int | None:
    """The journal serial the answer reflects: a new answer's own, or for a 304 the stored
    answer's (None: a failure, or a PyPI that sends no serial)."""
    reply = answer.reply
    if reply.error is not None:
        return None
    if reply.project is not None:
        return reply.project.serial
    before = stored.get(answer.target.package_id)
    return before.project.serial if before is not None and before.project is not None else None


def _older(serial: int | None, change: int) -> bool:
    """Whether an answer at `serial` predates the change at `change` (unknown: it does not)."""
    return serial is not None and serial < change
