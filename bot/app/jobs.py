"""The periodic work of a running djp-sentinel, shared by the Discord bot and headless mode."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy.exc import SQLAlchemyError

from bot.app.runtime import Runtime
from bot.delivery.senders import Sender
from bot.delivery.worker import DeliveryWorker
from bot.errors import SentinelError
from bot.messages.cards import site_root
from bot.refresh.monitor import CycleReport
from bot.refresh.stale_report import enqueue_stale_reports

log = logging.getLogger(__name__)

#: Failures a pass may meet in normal operation: logged briefly, retried next time.
EXPECTED = (SentinelError, httpx.HTTPError, SQLAlchemyError)


@dataclass(frozen=True, slots=True)
class RefreshPass:
    cycle: CycleReport
    stale_reports: int


@contextmanager
def survive(what: str) -> Iterator[None]:
    """Log a failed pass instead of letting it end its loop; the next pass tries again."""
    try:
        yield
    except EXPECTED as exc:
        log.warning("%s failed, will try again next time: %s", what, exc)
    except Exception:
        log.exception("%s failed unexpectedly, will try again next time", what)


async def refresh_pass(runtime: Runtime, *, everything: bool = False) -> RefreshPass:
    """One refresh cycle, then the weekly stale reports that fell due."""
    cycle = await runtime.monitor.run_cycle(everything=everything)
    stale_reports = await enqueue_stale_reports(
        runtime.database,
        now=runtime.monitor.clock(),
        default_stale_after_days=runtime.settings.stale_after_days,
    )
    log.info(
        "cycle (%s): %d packages, %d grids, %d changes, %d alerts, %d stale reports, %d failures",
        cycle.plan,
        cycle.packages_fetched,
        cycle.grids_fetched,
        len(cycle.changes),
        cycle.alerts_enqueued,
        stale_reports,
        len(cycle.failures),
    )
    return RefreshPass(cycle, stale_reports)


def delivery_worker(runtime: Runtime, sender: Sender) -> DeliveryWorker:
    """The outbox worker, on the monitor's clock: alerts fall due when the monitor says so."""
    return DeliveryWorker(
        runtime.database,
        sender,
        site_url=site_root(runtime.settings.djp_api_url),
        clock=runtime.monitor.clock,
    )
