"""What the OSV poll keeps: records read (by id, with their `modified` time), the advisory ids
known per PyPI name with what they said, when each name was last checked, and which packages
(and imported pins) are followed."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.advisories import FollowedPackage, Seen
from storage._sql import dialect_insert
from storage.models import (
    Alert,
    GridMember,
    KnownAdvisory,
    OsvPackage,
    OsvRecord,
    Package,
    Subscription,
    TargetKind,
)
from storage.subscriptions import ACTIVE


async def followed_packages(session: AsyncSession) -> list[FollowedPackage]:
    """Every stored package an active subscription reaches (directly or through a grid)."""
    direct = select(Subscription.target_id.label("package_id")).where(
        ACTIVE, Subscription.target_kind == TargetKind.PACKAGE
    )
    via_grid = (
        select(GridMember.package_id)
        .join(Subscription, Subscription.target_id == GridMember.grid_id)
        .where(ACTIVE, Subscription.target_kind == TargetKind.GRID)
    )
    reached = union(direct, via_grid).subquery()
    rows = await session.execute(
        select(Package.id, Package.slug, Package.title, Package.pypi_url, Package.pypi_version)
        .where(Package.id.in_(select(reached.c.package_id)))
        .order_by(Package.id)
    )
    return [FollowedPackage(*row) for row in rows.tuples()]


async def checked_at(session: AsyncSession) -> dict[str, datetime]:
    """When each name ever checked was last checked (all of them: one plain scan is cheaper
    than a filter naming thousands of names)."""
    rows = await session.execute(select(OsvPackage.pypi_name, OsvPackage.checked_at))
    return dict(rows.tuples().all())


async def mark_checked(session: AsyncSession, names: Iterable[str], *, now: datetime) -> None:
    rows = [{"pypi_name": name, "checked_at": now} for name in sorted(set(names))]
    if not rows:
        return
    insert = dialect_insert(session, OsvPackage.__table__)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["pypi_name"], set_={"checked_at": insert.excluded.checked_at}
        ),
        rows,
    )


async def stored_modified(session: AsyncSession, ids: Collection[str]) -> dict[str, str]:
    """The `modified` time of each stored record among `ids`."""
    rows = await session.execute(
        select(OsvRecord.id, OsvRecord.modified).where(OsvRecord.id.in_(set(ids)))
    )
    return dict(rows.tuples().all())


async def records(session: AsyncSession, ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """The stored records among `ids`, by id."""
    rows = await session.execute(
        select(OsvRecord.id, OsvRecord.record).where(OsvRecord.id.in_(set(ids)))
    )
    return dict(rows.tuples().all())


async def save_records(
    session: AsyncSession, fetched: Mapping[str, dict[str, Any]], *, now: datetime
) -> None:
    """Store records read from OSV (replacing older copies)."""
    rows = [
        {"id": vuln_id, "modified": record["modified"], "record": record, "fetched_at": now}
        for vuln_id, record in sorted(fetched.items())
    ]
    if not rows:
        return
    insert = dialect_insert(session, OsvRecord.__table__)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["id"],
            set_={
                "modified": insert.excluded.modified,
                "record": insert.excluded.record,
                "fetched_at": insert.excluded.fetched_at,
            },
        ),
        rows,
    )


async def known(session: AsyncSession, names: Collection[str]) -> dict[str, dict[str, Seen]]:
    """The advisory ids known for each of `names` that was ever checked (a name never checked
    is left out: its first check is a silent baseline)."""
    checked = await checked_at(session)
    found: dict[str, dict[str, Seen]] = {name: {} for name in names if name in checked}
    rows = await session.execute(
        select(
            KnownAdvisory.pypi_name,
            KnownAdvisory.osv_id,
            KnownAdvisory.material,
            KnownAdvisory.withdrawn,
            KnownAdvisory.modified,
        )
    )
    for name, osv_id, material, withdrawn, modified in rows.tuples():
        if name in found:
            found[name][osv_id] = Seen(material, withdrawn, modified)
    return found


async def remember(
    session: AsyncSession, name: str, advisories: Mapping[str, Seen], *, now: datetime
) -> None:
    """Replace what is known of `name` by `advisories` (by id)."""
    await session.execute(delete(KnownAdvisory).where(KnownAdvisory.pypi_name == name))
    if advisories:
        await session.execute(
            dialect_insert(session, KnownAdvisory.__table__),
            [
                {
                    "pypi_name": name,
                    "osv_id": osv_id,
                    "material": seen.material,
                    "withdrawn": seen.withdrawn,
                    "modified": seen.modified,
                    "seen_at": now,
                }
                for osv_id, seen in sorted(advisories.items())
            ],
        )


async def known_ids(session: AsyncSession, name: str) -> list[str]:
    """The advisory ids known for one name (for `/package`)."""
    rows = await session.scalars(
        select(KnownAdvisory.osv_id).where(KnownAdvisory.pypi_name == name)
    )
    return list(rows)


async def announced(session: AsyncSession, dedup_keys: Collection[str]) -> dict[str, bool]:
    """Those of `dedup_keys` an alert already carries (which channels heard of an advisory
    that is now withdrawn), each with whether that alert was urgent."""
    if not dedup_keys:
        return {}
    rows = await session.execute(
        select(Alert.dedup_key, Alert.urgent).where(Alert.dedup_key.in_(set(dedup_keys)))
    )
    return dict(rows.tuples().all())
