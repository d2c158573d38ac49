"""Packages and grids by what a person typed: autocomplete and "did you mean", for Discord and
the CLI alike.

Names come from the monitor's in-memory index (`bot.refresh.names`), ranked by
`bot.core.fuzzy`. Until the whole catalog has been synced once, Django Packages' own search
tops up the local matches, within a time budget that keeps autocomplete inside Discord's 3 s
and within the search budgets (per person and for everyone) of `Runtime.lookups` and, shared by
every process on PostgreSQL, of `bot.app.search_budget`.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from bot.app.runtime import Runtime
from bot.app.search_budget import may_search_everywhere
from bot.core.fuzzy import MATCH_CUTOFF, SUGGESTION_CUTOFF, Entry, query_text
from bot.errors import SentinelError
from bot.refresh.names import Kind

log = logging.getLogger(__name__)

#: Close matches offered when a slug is unknown.
SUGGESTIONS = 5
#: Seconds the upstream search may take before autocomplete answers with what it has.
SEARCH_BUDGET = 1.5
#: Typed characters before Django Packages is searched: shorter text matches too much to help.
SEARCH_FROM = 3


async def find_names(
    runtime: Runtime,
    kind: Kind,
    text: str,
    limit: int,
    *,
    cutoff: float = MATCH_CUTOFF,
    person: int | None = None,
) -> list[Entry]:
    """Up to `limit` packages or grids matching `text`, best first; `person` is whose typing
    it is (a Discord user id; None for the operator), for the search budgets."""
    text = query_text(text)
    names = runtime.monitor.names
    found = (await names.index(kind)).search(text, limit, cutoff=cutoff)
    if (
        len(found) == limit
        or names.catalog_synced
        or len(text.strip()) < SEARCH_FROM
        or not runtime.lookups.may_search(person)
    ):
        return found
    known = {entry.slug for entry in found}
    extra = [
        entry for entry in await _upstream(runtime, kind, text, person) if entry.slug not in known
    ]
    return [*found, *extra][:limit]


async def _upstream(runtime: Runtime, kind: Kind, text: str, person: int | None) -> list[Entry]:
    """Django Packages' search for `text`; [] if it is slow or failing, or the budgets every
    process shares are spent."""
    try:
        async with asyncio.timeout(SEARCH_BUDGET):
            if not await may_search_everywhere(runtime, person):
                return []
            hits = await runtime.client.search(text)
    except (TimeoutError, SentinelError, httpx.HTTPError) as exc:
        log.info("search for %r skipped: %s", text, str(exc) or "too slow")
        return []
    return [Entry(hit.slug, hit.title) for hit in hits if hit.item_type == kind]


async def suggestions(runtime: Runtime, kind: Kind, text: str) -> list[str]:
    """The slugs someone who typed an unknown `text` probably meant, closest first."""
    found = await find_names(runtime, kind, text, SUGGESTIONS, cutoff=SUGGESTION_CUTOFF)
    return [entry.slug for entry in found]


async def not_found(runtime: Runtime, kind: Kind, text: str) -> str:
    """'No package “…” on Django Packages. Did you mean: a, b?' (plain text: a medium escapes
    it as a whole)."""
    message = f"No {kind} “{text}” on Django Packages."
    if close := await suggestions(runtime, kind, text):
        message += " Did you mean: " + ", ".join(close) + "?"
    return message
