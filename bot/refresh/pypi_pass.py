"""The PyPI and endoflife.date pass: run after the Django Packages cycle, on its own.

The pass first reads PyPI's journal since its cursor (`bot.pypi.journal`: one request), then
asks only the watched projects (directly or through a grid) that `pypi_plan` picks: those the
journal names, those not followed yet, and the few whose answer reached its safety age; an
unchanged project costs nothing. Without a cursor, or when the journal cannot be read or is
cut short, it asks every due project instead, as it did before it read the journal, and takes
the journal's newest serial as the cursor from then on. Each project is asked at most once
per poll interval, conditionally (`If-None-Match`); endoflife.date once a day (see below). New
answers are compared with the stored ones (`pypi_compare.compare`), and the changes, the new
answers, the versions they announce and the cursor are written in one transaction of their
own: a failure here never touches the Django Packages refresh, which has already been
written, and a crash before it commits reads the same journal again. A failed or malformed
answer keeps the last good one, counts as unknown (never a change), and the project is asked
again after a backoff; after `GIVE_UP_AFTER` failures in a row the pass stops asking for this
cycle (the source is down), so a dead source costs a few requests, not one per package. The
journal failing is no such failure: it only makes the pass ask every due project.

Each pass that asks a source ends by recording what it cost and met
(`storage.source_health.record_run`) for `/status`; endoflife.date's next read follows from it
(`SourceHealth.next_ask`: a day after a good read, an hour after a failure, doubling up to the
day).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.config import Settings
from bot.core.clock import Clock, utcnow
from bot.core.endoflife import DjangoCycle, parse_cycles
from bot.core.events import Change
from bot.core.pypi import PypiProject, parse_project
from bot.core.pypi_checks import Journal, PypiTarget
from bot.core.pypi_names import pypi_project_name
from bot.core.source_health import Source, SourceRun
from bot.errors import InvalidRecord, SentinelError
from bot.pypi.client import NOT_MODIFIED, ConditionalClient, EndOfLifeClient, Gone, PypiClient
from bot.pypi.journal import JOURNAL_LIMIT, PypiJournal
from bot.refresh.apply import announce
from bot.refresh.audience import Followed
from bot.refresh.monitor import MonitorSettings
from bot.refresh.pypi_compare import Answer, PypiReply, decide_pass
from bot.refresh.pypi_plan import Plan, next_cursor, plan_pass, stored_needed
from bot.refresh.schedule import DUE_SLACK
from storage import packages, source_health
from storage import pypi as stored_pypi
from storage.database import Database

log = logging.getLogger(__name__)

#: Failures in a row after which the pass stops asking PyPI this cycle.
GIVE_UP_AFTER = 3
ENDOFLIFE_DOCUMENT = "endoflife:django"
#: Where the journal cursor is kept: `{"serial": n, "index": PYPI_URL}` (a cursor is
#: meaningless on another index), and why the journal last failed.
JOURNAL_DOCUMENT = "pypi:journal"
ENDOFLIFE_INTERVAL = timedelta(days=1)
#: The wait after endoflife.date's first failure in a row, doubled after each further one.
ENDOFLIFE_FIRST_RETRY = timedelta(hours=1)


@dataclass(slots=True)
class SourcesReport:
    """What one pass cost and found: `requests` and `not_modified` count the projects'
    requests, `journal_requests` the journal's; `swept` says every due project was asked."""

    requests: int = 0
    not_modified: int = 0
    journal_requests: int = 0
    #: The journal answered (since the cursor, or its newest serial).
    journal_read: bool = False
    swept: bool = False
    projects_read: int = 0
    failures: int = 0
    gave_up: bool = False
    changes: list[Change] = field(default_factory=list)
    alerts_enqueued: int = 0
    #: The last error PyPI's answers met (a project's), as said.
    error: str | None = None
    #: What endoflife.date cost and met (nothing when it was not due).
    endoflife: SourceRun = field(default_factory=SourceRun)

    def pypi_run(self) -> SourceRun:
        """What PyPI cost and met, as its health keeps it: a journal that answered is a usable
        answer too (what is stored is known to be current), and a journal that did not is no
        failure (the pass asked every due project instead)."""
        read = self.projects_read + self.not_modified > 0 or self.journal_read
        return SourceRun(
            self.requests + self.journal_requests,
            self.not_modified,
            self.failures,
            read,
            self.gave_up,
            self.error,
        )


class SourcesPass:
    """Reads PyPI and endoflife.date for what is watched; either client may be None (off)."""

    def __init__(
        self,
        database: Database,
        settings: MonitorSettings,
        *,
        pypi: PypiClient | None,
        endoflife: EndOfLifeClient | None,
        clock: Clock = utcnow,
        journal_limit: int = JOURNAL_LIMIT,
    ) -> None:
        self.database = database
        self.settings = settings
        self.pypi = pypi
        self.journal = PypiJournal(pypi.http, limit=journal_limit) if pypi is not None else None
        self.endoflife = endoflife
        self.clock = clock

    async def run(self) -> SourcesReport:
        report = SourcesReport()
        if self.pypi is not None and self.journal is not None:
            await self._pypi(self.pypi, self.journal, report)
        report.endoflife = await self.refresh_endoflife()
        return report

    async def project_of(
        self, package_id: int, pypi_url: str | None, *, live: bool
    ) -> PypiProject | None:
        """What PyPI says of a package: its stored answer, or a conditional request first when
        `live` or when nothing is stored yet (a package no pass has asked about). None when
        PyPI is off, the package has no project, or nothing could be read. A live answer is
        shown, not stored: the pass compares and stores answers."""
        name = pypi_project_name(pypi_url)
        if self.pypi is None or name is None:
            return None
        async with self.database.session() as session:
            stored = (await stored_pypi.stored_projects(session, [package_id])).get(package_id)
            etag = (
                await stored_pypi.etag_of(session, package_id)
                if stored and stored.project
                else None
            )
        known = stored.project if stored else None
        if known is not None and not live:
            return known
        answer = await ask_project(self.pypi, name, etag)
        if answer.error is not None:
            log.info("%s", answer.error)
            return None
        return answer.project or known

    # -- PyPI ------------------------------------------------------------------------------

    async def _pypi(self, client: PypiClient, journal: PypiJournal, report: SourcesReport) -> None:
        now = self.clock()
        due_by = now + self.settings.poll_interval * DUE_SLACK
        async with self.database.session() as session:
            targets = await stored_pypi.pypi_targets(session)
            kept = await stored_pypi.document(session, JOURNAL_DOCUMENT)
        http = client.http
        before = http.requests_made
        read = await _read_journal(journal, _cursor(kept.body if kept else None, http.base_url))
        report.journal_requests = http.requests_made - before
        if read.error != (kept.last_error if kept else None):
            _log_journal_state(read.error)
        plan = plan_pass(targets, read.journal, start=read.start, now=now, due_by=due_by)
        report.swept = read.journal is None
        report.journal_read = read.journal is not None or read.start is not None
        before, not_modified_before = http.requests_made, http.not_modified
        answers = await self._ask_all(client, plan.ask, report)
        report.requests += http.requests_made - before
        report.not_modified += http.not_modified - not_modified_before
        await self._apply(answers, plan, read, now, report)
        async with self.database.transaction() as session:
            await source_health.record_run(session, Source.PYPI, report.pypi_run(), now)

    async def _ask_all(
        self, client: PypiClient, due: Sequence[tuple[PypiTarget, str]], report: SourcesReport
    ) -> list[Answer]:
        """Ask for every due project, stopping once `GIVE_UP_AFTER` fail in a row.

        As many askers as the client's concurrency take the projects in turn: thousands of
        tasks queued on one semaphore would cost more than the requests they wait for.
        """
        answers: list[Answer] = []
        failed_in_a_row = 0
        pending = iter(due)

        async def asker() -> None:
            nonlocal failed_in_a_row
            for target, name in pending:
                if failed_in_a_row >= GIVE_UP_AFTER:
                    return
                etag = target.etag if target.checked_at is not None else None
                answer = Answer(target, name, await ask_project(client, name, etag))
                answers.append(answer)
                if answer.reply.error is not None:
                    report.failures += 1
                    report.error = answer.reply.error
                if answer.reply.error is None or answer.reply.answered:
                    failed_in_a_row = 0
                else:
                    failed_in_a_row += 1

        await asyncio.gather(*(asker() for _ in range(client.http.concurrency)))
        if failed_in_a_row >= GIVE_UP_AFTER:
            report.gave_up = True
            log.warning("PyPI failed %d times in a row: asking again next cycle", GIVE_UP_AFTER)
        return answers

    async def _apply(
        self,
        answers: Sequence[Answer],
        plan: Plan,
        read: JournalRead,
        now: datetime,
        report: SourcesReport,
    ) -> None:
        """Read what the new answers are compared with, decide, and write it all, the journal
        cursor included, in one transaction."""
        fresh = {a.target.package_id for a in answers if a.reply.project is not None}
        async with self.database.transaction() as session:
            stored = await stored_pypi.stored_projects(session, stored_needed(plan, answers))
            cursor = next_cursor(plan, answers, stored)
            decided = decide_pass(
                answers,
                stored,
                await stored_pypi.announced_versions(session, fresh),
                await packages.package_titles(session, fresh),
                now=now,
                interval=self.settings.poll_interval,
            )
            await stored_pypi.unfollow_others(session, plan.followed)  # before any is written
            await stored_pypi.save_checks(session, decided.checks)
            await stored_pypi.mark_announced(session, decided.announcing, source="pypi", now=now)
            await stored_pypi.save_document(
                session,
                JOURNAL_DOCUMENT,
                checked_at=now,
                body=None if cursor is None else {"serial": cursor, "index": read.index},
                error=read.error,
            )
            if decided.changes:
                report.alerts_enqueued += await announce(
                    session, decided.changes, Followed.PACKAGE, now
                )
        report.projects_read += len(fresh)
        report.changes += decided.changes
        for check in decided.checks:
            if check.error is not None:
                when = check.next_check_at.strftime("%Y-%m-%d %H:%M UTC")
                error = check.error.rstrip(".")
                log.warning("%s; keeping its last answer, asking again at %s.", error, when)

    # -- endoflife.date --------------------------------------------------------------------

    async def refresh_endoflife(self) -> SourceRun:
        """Read endoflife.date's Django cycles when due (a failure keeps what it said before);
        what the read cost and met (nothing when it was not due)."""
        client, now = self.endoflife, self.clock()
        if client is None:
            return SourceRun()
        async with self.database.session() as session:
            known = await stored_pypi.document(session, ENDOFLIFE_DOCUMENT)
            health = await source_health.health_of(session, Source.ENDOFLIFE)
        if health is not None and health.next_ask(ENDOFLIFE_INTERVAL, ENDOFLIFE_FIRST_RETRY) > now:
            return SourceRun()
        etag = known.etag if known is not None and known.body is not None else None
        body, error = None, None
        requests_before, not_modified_before = client.http.requests_made, client.http.not_modified
        try:
            answer = await client.django(etag)
            if answer != NOT_MODIFIED:
                parse_cycles(answer.body)  # only a readable answer replaces the stored one
                body, etag = answer.body, answer.etag
        except SentinelError as exc:
            error = str(exc)
            log.warning("endoflife.date: %s (keeping what it said before)", exc)
        run = SourceRun(
            requests=client.http.requests_made - requests_before,
            not_modified=client.http.not_modified - not_modified_before,
            failures=0 if error is None else 1,
            read=error is None,
            error=error,
        )
        async with self.database.transaction() as session:
            await stored_pypi.save_document(
                session, ENDOFLIFE_DOCUMENT, checked_at=now, etag=etag, body=body, error=error
            )
            await source_health.record_run(session, Source.ENDOFLIFE, run, now)
        return run


async def django_cycles(database: Database) -> list[DjangoCycle]:
    """Django's release cycles as endoflife.date last said them (empty when never read)."""
    async with database.session() as session:
        known = await stored_pypi.document(session, ENDOFLIFE_DOCUMENT)
    if known is None or known.body is None:
        return []
    try:
        return parse_cycles(known.body)
    except InvalidRecord:
        return []


@dataclass(frozen=True, slots=True)
class JournalRead:
    """The journal of `index` since the cursor, or (`journal` None: ask every due project)
    the newest serial read before asking (None: unknown), and why the journal could not be
    used."""

    index: str
    journal: Journal | None
    start: int | None = None
    error: str | None = None


async def _read_journal(journal: PypiJournal, cursor: int | None) -> JournalRead:
    """The journal since `cursor`; without a cursor, or when the journal since it cannot be
    used, its newest serial instead (read now, before any project is asked, so a change made
    while they are asked is after it)."""
    error, index = None, journal.http.base_url
    if cursor is not None:
        try:
            return JournalRead(index, await journal.since(cursor))
        except SentinelError as exc:
            error = str(exc)
    try:
        return JournalRead(index, None, start=await journal.last_serial(), error=error)
    except SentinelError as exc:
        return JournalRead(index, None, error=error or str(exc))


def _cursor(body: object, index: str) -> int | None:
    """The serial a stored cursor document holds for `index` (None: none, unreadable, or a
    cursor in another index's journal: `PYPI_URL` changed)."""
    if not isinstance(body, dict) or body.get("index") != index:
        return None
    serial = body.get("serial")
    return serial if isinstance(serial, int) and not isinstance(serial, bool) else None


def _log_journal_state(error: str | None) -> None:
    """Say when the journal stops or starts being usable (not on every pass)."""
    if error is None:
        log.info("PyPI's journal is readable: asking only the projects it names")
    else:
        log.warning("%s Asking every due PyPI project until the journal can be read.", error)


async def ask_project(client: PypiClient, name: str, etag: str | None) -> PypiReply:
    """What PyPI says of project `name` now (conditionally when `etag` is known); never
    raises: a failure, a 404 or an unusable answer is the reply's `error`."""
    try:
        answer = await client.project(name, etag)
    except Gone as exc:
        return PypiReply(error=str(exc), answered=True)
    except SentinelError as exc:
        return PypiReply(error=str(exc))
    if answer == NOT_MODIFIED:
        return PypiReply(etag=etag)
    try:
        return PypiReply(parse_project(answer.body), answer.etag)
    except InvalidRecord as exc:
        return PypiReply(error=f"PyPI sent an unusable answer for {name}: {exc}")


def source_client(
    settings: Settings, url: str, source: str, **client_options: Any
) -> ConditionalClient | None:
    """A client for the source at `url`, or None when the URL is empty (the source is off)."""
    if not url.strip():
        return None
    return ConditionalClient(
        base_url=url,
        source=source,
        concurrency=settings.http_concurrency,
        timeout=settings.http_timeout_seconds,
        **client_options,
    )


@asynccontextmanager
async def open_sources(
    settings: Settings,
    database: Database,
    schedule: MonitorSettings,
    *,
    clock: Clock = utcnow,
    journal_limit: int = JOURNAL_LIMIT,
    **client_options: Any,
) -> AsyncIterator[SourcesPass]:
    """The pass with a client for each source whose URL is set (closed on exit).

    `client_options` (retry, sleep, random) go to both clients: tests pin the backoff, and
    `journal_limit` to the journal's cap on one answer (a fake's can be small).
    """

    pypi = source_client(settings, settings.pypi_url, "PyPI", **client_options)
    endoflife = source_client(settings, settings.endoflife_url, "endoflife.date", **client_options)
    try:
        yield SourcesPass(
            database,
            schedule,
            pypi=PypiClient(pypi) if pypi else None,
            endoflife=EndOfLifeClient(endoflife) if endoflife else None,
            clock=clock,
            journal_limit=journal_limit,
        )
    finally:
        for client in (pypi, endoflife):
            if client is not None:
                await client.aclose()
