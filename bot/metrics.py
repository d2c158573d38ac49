"""Every Prometheus series djp-sentinel exports, in one place (served on `METRICS_PORT`).

The series are recorded at the seams between layers (a finished refresh pass, a delivery pass,
an HTTP response, a gateway event), never inside the domain code. Names follow Prometheus
conventions: `_total` counters, `_seconds` durations, base units.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PREFIX = "djp_sentinel"

CYCLES = Counter(f"{PREFIX}_cycles", "Refresh cycles run, by plan.", ["plan"])
CYCLE_SECONDS = Histogram(
    f"{PREFIX}_cycle_duration_seconds",
    "How long a refresh cycle took.",
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
PACKAGES_FETCHED = Counter(f"{PREFIX}_packages_fetched", "Package records fetched.")
API_REQUESTS = Counter(
    f"{PREFIX}_api_requests",
    "Requests to Django Packages, by HTTP status (`error` when no response came).",
    ["status"],
)
API_FAILURES = Counter(
    f"{PREFIX}_api_failures",
    "Requests to Django Packages that failed, by HTTP status or `error`.",
    ["status"],
)
OSV_REQUESTS = Counter(
    f"{PREFIX}_osv_requests",
    "Requests to OSV by the advisory pass, by kind (`batch`: querybatch, `record`: a vuln).",
    ["kind"],
)
OSV_FAILURES = Counter(f"{PREFIX}_osv_failures", "Advisory passes OSV could not answer.")
SOURCE_REQUESTS = Counter(
    f"{PREFIX}_source_requests",
    "Requests to PyPI and endoflife.date, retries included, by source (`pypi`, `endoflife`).",
    ["source"],
)
SOURCE_NOT_MODIFIED = Counter(
    f"{PREFIX}_source_not_modified",
    "Requests to PyPI and endoflife.date answered 304 Not Modified, by source.",
    ["source"],
)
SOURCE_FAILURES = Counter(
    f"{PREFIX}_source_failures",
    "Documents PyPI or endoflife.date did not give (after retries; a 404 too), by source.",
    ["source"],
)
CHANGES = Counter(f"{PREFIX}_changes", "Changes detected, by event.", ["event"])
ALERTS_ENQUEUED = Counter(
    f"{PREFIX}_alerts_enqueued", "Alerts written to the outbox, by event.", ["event"]
)
ALERTS = Counter(
    f"{PREFIX}_alerts",
    "Alerts settled by delivery, by outcome "
    "(posted, summarized, retried, failed, dropped, waiting).",
    ["outcome"],
)
DESTINATIONS_PAUSED = Counter(
    f"{PREFIX}_destinations_paused",
    "Channels or webhooks paused because Discord answered 403 or 404.",
)
MESSAGES_POSTED = Counter(f"{PREFIX}_messages_posted", "Discord messages posted by delivery.")
OUTBOX_PENDING = Gauge(f"{PREFIX}_outbox_pending", "Alerts waiting in the outbox.")
OUTBOX_OLDEST_PENDING_AGE = Gauge(
    f"{PREFIX}_outbox_oldest_pending_age_seconds",
    "Age of the oldest alert still waiting in the outbox (0 when none).",
)
DISCORD_RATE_LIMITED = Counter(
    f"{PREFIX}_discord_rate_limited", "HTTP 429 answers from Discord, by client.", ["client"]
)
INTERACTION_SECONDS = Histogram(
    f"{PREFIX}_interaction_latency_seconds",
    "From an interaction's creation to the end of its handling, by kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10),
)
DELIVERY_WORKERS_LIVE = Gauge(
    f"{PREFIX}_delivery_workers_live",
    "Delivery workers that beat recently, this one included (they split Discord's budget).",
)
LEADER = Gauge(f"{PREFIX}_monitor_leader", "1 while this process is the elected monitor.")
SHARDS_CONNECTED = Gauge(
    f"{PREFIX}_shards_connected", "Gateway shards of this process that are connected."
)
