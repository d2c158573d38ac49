"""The periodic work of a running djp-sentinel, shared by the Discord bot and headless mode."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy.exc import SQLAlchemyError

from bot import metrics
from bot.app.runtime import Runtime
from bot.core.plural import counted
from bot.core.source_health import Source, SourceRun
from bot.delivery.pacing import delivery_budget
from bot.delivery.registration import Registration
from bot.delivery.senders import RoutingSender, Sender
from bot.delivery.webhook import WebhookSender
from bot.delivery.worker import DeliveryReport, DeliveryWorker
from bot.errors import SentinelError
from bot.messages.cards import site_root
from bot.osv.client import OsvUnavailable
from bot.refresh.advisories import AdvisoryWatch
from bot.refresh.pypi_pass import SourcesPass
from bot.refresh.report import CycleReport
from bot.refresh.stale_report import enqueue_stale_reports
from storage import outbox
from storage.errors import database_reason

log = logging.getLogger(__name__)

#: Failures a pass may meet in normal operation: logged briefly, retried next time.
EXPECTED = (SentinelError, httpx.HTTPError, SQLAlchemyError)


@dataclass(frozen=True, slots=True)
class RefreshPass:
    """One refresh pass: the cycle, then the passes after it and what each enqueued."""

    cycle: CycleReport
    stale_reports: int
    advisory_alerts: int = 0
    pypi_alerts: int = 0

    @property
    def alerts_enqueued(self) -> int:
        """Every alert the pass enqueued, whichever part found it (the stale reports too)."""
        found = (self.cycle.alerts_enqueued, self.stale_reports)
        return sum(found) + self.advisory_alerts + self.pypi_alerts


@contextmanager
def survive(what: str) -> Iterator[None]:
    """Log a failed pass instead of letting it end its loop; the next pass tries again."""
    try:
        yield
    except EXPECTED as exc:
        log.warning("%s failed, will try again next time: %s", what, _reason(exc))
    except Exception:
        log.exception("%s failed unexpectedly, will try again next time", what)


def _reason(exc: Exception) -> str:
    """An expected failure on one line: a database error as `database_reason` gives it."""
    return f"database: {database_reason(exc)}" if isinstance(exc, SQLAlchemyError) else str(exc)


async def refresh_pass(runtime: Runtime, *, everything: bool = False) -> RefreshPass:
    """One refresh cycle, the OSV and PyPI passes after it, then the weekly stale reports
    that fell due."""
    started = time.monotonic()
    cycle = await runtime.monitor.run_cycle(everything=everything)
    advisories, sources = runtime.advisories, runtime.sources
    advisory_alerts = await advisory_pass(advisories) if advisories is not None else 0
    pypi_alerts = await sources_pass(sources) if sources is not None else 0
    stale_reports = await enqueue_stale_reports(
        runtime.database,
        now=runtime.clock(),
        default_stale_after_days=runtime.settings.stale_after_days,
    )
    log.info(
        "cycle (%s): %s",
        cycle.plan,
        ", ".join(
            [
                counted(cycle.packages_fetched, "package"),
                counted(cycle.grids_fetched, "grid"),
                counted(len(cycle.changes), "change"),
                counted(cycle.alerts_enqueued, "alert"),
                counted(stale_reports, "stale report"),
                counted(len(cycle.failures), "failure"),
            ]
        ),
    )
    await _count_refresh(runtime, cycle, time.monotonic() - started)
    return RefreshPass(cycle, stale_reports, advisory_alerts, pypi_alerts)


async def sources_pass(sources: SourcesPass) -> int:
    """The PyPI and endoflife.date pass after a refresh cycle: its failure is logged, never
    raised; how many alerts it enqueued."""
    enqueued = 0
    with survive("PyPI and endoflife.date pass"):
        report = await sources.run()
        enqueued = report.alerts_enqueued
        log.info(
            "PyPI: %s (%d not modified) and %d to its journal%s, %s, %s",
            counted(report.requests, "request"),
            report.not_modified,
            report.journal_requests,
            " (every due project asked)" if report.swept else "",
            counted(len(report.changes), "change"),
            counted(enqueued, "alert"),
        )
        _count_sources({Source.PYPI: report.pypi_run(), Source.ENDOFLIFE: report.endoflife})
    return enqueued


async def advisory_pass(watch: AdvisoryWatch) -> int:
    """The OSV pass after a refresh cycle: its failure is logged and counted, never raised;
    how many alerts it enqueued."""
    before, enqueued = watch.client.requests, 0
    try:
        with survive("OSV advisories pass"):
            try:
                report = await watch.run()
            except OsvUnavailable:
                metrics.OSV_FAILURES.inc()
                raise
            enqueued = report.alerts_enqueued
            log.info(
                "advisories: %s checked, %s, %s",
                counted(report.names_checked, "name"),
                counted(report.batch_requests + report.record_requests, "request"),
                counted(enqueued, "alert"),
            )
    finally:
        after = watch.client.requests
        metrics.OSV_REQUESTS.labels("batch").inc(after.batches - before.batches)
        metrics.OSV_REQUESTS.labels("record").inc(after.records - before.records)
    return enqueued


def _count_sources(runs: dict[Source, SourceRun]) -> None:
    for source, run in runs.items():
        metrics.SOURCE_REQUESTS.labels(source.value).inc(run.requests)
        metrics.SOURCE_NOT_MODIFIED.labels(source.value).inc(run.not_modified)
        metrics.SOURCE_FAILURES.labels(source.value).inc(run.failures)


async def _count_refresh(runtime: Runtime, cycle: CycleReport, seconds: float) -> None:
    metrics.CYCLES.labels(cycle.plan).inc()
    metrics.CYCLE_SECONDS.observe(seconds)
    metrics.PACKAGES_FETCHED.inc(cycle.packages_fetched)
    for change in cycle.changes:
        metrics.CHANGES.labels(change.event.value).inc()
    async with runtime.database.session() as session:
        enqueued = await outbox.enqueued_since(session, cycle.started_at)
    for event, count in enqueued.items():
        metrics.ALERTS_ENQUEUED.labels(event).inc(count)


async def delivery_pass(
    runtime: Runtime, worker: DeliveryWorker, registration: Registration
) -> DeliveryReport:
    """One pass over the outbox at this worker's share of Discord's budget (beating in the
    registry of delivery workers while it runs), counted in the metrics with the backlog it
    leaves."""
    async with registration.beating():
        report = await worker.run_once()
    outcomes = {
        "posted": report.sent,
        "summarized": report.summarized,
        "retried": report.retrying,
        "failed": report.failed,
        "dropped": report.dropped,
        "waiting": report.waiting,
    }
    for outcome, count in outcomes.items():
        metrics.ALERTS.labels(outcome).inc(count)
    metrics.MESSAGES_POSTED.inc(report.messages)
    metrics.DESTINATIONS_PAUSED.inc(len(report.paused))
    async with runtime.database.session() as session:
        pending, oldest = await outbox.pending_backlog(session)
    metrics.OUTBOX_PENDING.set(pending)
    age = (runtime.clock() - oldest).total_seconds() if oldest else 0.0
    metrics.OUTBOX_OLDEST_PENDING_AGE.set(max(age, 0.0))
    return report


def delivery_registration(runtime: Runtime, delivery_interval: float) -> Registration:
    """This process's entry among the delivery workers, pacing `runtime.pacer` to its share."""
    return Registration(
        runtime.database,
        runtime.pacer,
        budget=delivery_budget(runtime.settings.discord_global_rate),
        clock=runtime.clock,
        delivery_interval=delivery_interval,
    )


def delivery_worker(
    runtime: Runtime, bot: Sender | None, http: httpx.AsyncClient
) -> DeliveryWorker:
    """The outbox worker, posting as `bot` and through webhooks (only webhook alerts without a
    bot), paced by the process's share of Discord's budget and on the runtime's clock."""
    return DeliveryWorker(
        runtime.database,
        RoutingSender(bot, WebhookSender(http, test_host=runtime.settings.webhook_test_host)),
        site_url=site_root(runtime.settings.djp_api_url),
        clock=runtime.clock,
        pacer=runtime.pacer,
        webhooks_only=bot is None,
    )
