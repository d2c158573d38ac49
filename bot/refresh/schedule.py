"""How a cycle fetches what is due, and when a failing target is tried again: pure."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Literal

from bot.core.backoff import backoff

CATALOG_PAGE_SIZE = 500
#: Used to plan a cycle before the first catalog crawl has told us the real size.
ASSUMED_CATALOG_SIZE = 6000
#: A package that keeps failing is retried after poll_interval * 2**(failures-1), capped here.
MAX_BACKOFF = timedelta(days=7)
#: A target falling due within this fraction of an interval after a cycle starts is refreshed by
#: it: cycles start one interval apart, and a clock read a moment early must not skip a cycle.
DUE_SLACK = 0.1

Plan = Literal["catalog", "targets", "idle"]


def choose_plan(due: int, catalog_size: int) -> Plan:
    """Page the catalog when that takes fewer requests than fetching each due package."""
    if due == 0:
        return "idle"
    pages = max(1, math.ceil(catalog_size / CATALOG_PAGE_SIZE))
    return "catalog" if pages < due else "targets"


def retry_delay(poll_interval: timedelta, failures: int) -> timedelta:
    """Exponential backoff for a package or grid that keeps failing."""
    return backoff(poll_interval, failures, MAX_BACKOFF)
