"""What each upstream source's passes met (PyPI, endoflife.date, OSV): one JSON document per
source in `source_documents` (`health:<source>`), folded from each pass's `SourceRun`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.source_health import Source, SourceHealth, SourceRun
from storage.models import SourceDocument
from storage.pypi import save_document


def _health_document(source: Source) -> str:
    return f"health:{source.value}"


def _health(row: SourceDocument | None) -> SourceHealth | None:
    """What `row` keeps of a source (None: nothing, or nothing readable)."""
    if row is None or not isinstance(row.body, dict):
        return None
    try:
        return SourceHealth.from_json(row.body)
    except (KeyError, TypeError, ValueError):
        return None


async def source_health(session: AsyncSession) -> dict[Source, SourceHealth]:
    """How each source that was ever asked is doing."""
    names = {_health_document(source): source for source in Source}
    rows = await session.scalars(select(SourceDocument).where(SourceDocument.name.in_(names)))
    return {names[row.name]: health for row in rows if (health := _health(row)) is not None}


async def health_of(session: AsyncSession, source: Source) -> SourceHealth | None:
    return _health(await session.get(SourceDocument, _health_document(source)))


async def record_run(
    session: AsyncSession, source: Source, run: SourceRun, now: datetime
) -> SourceHealth:
    """Fold one pass's `run` into what is kept of `source`, and return it."""
    known = await health_of(session, source)
    health = known.after(run, now) if known else SourceHealth.first(run, now)
    await save_document(
        session,
        _health_document(source),
        checked_at=now,
        body=health.to_json(),
        error=health.last_error,
    )
    return health
