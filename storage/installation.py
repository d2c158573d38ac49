"""This installation's own secret: the key that signs its exports (migration 0011 draws it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Installation


async def export_key(session: AsyncSession) -> bytes:
    """The HMAC key of this installation's exports."""
    key = await session.scalar(select(Installation.export_key).where(Installation.id == 1))
    if key is None:  # only a database built without the migrations
        raise LookupError("the installation row is missing: run `djp-sentinel db upgrade`")
    return bytes.fromhex(key)
