"""Use cases: the runtime they share (settings, database, client, monitor, clock), export and
import, webhook subscriptions, package summaries, grid tables, lookups and sample alerts."""
