"""The database schema as SQLAlchemy 2 typed declarative models.

Every datetime column is a `UtcDateTime`: aware UTC in, aware UTC out, on SQLite (which keeps no
offset) and PostgreSQL alike. Discord snowflakes are `BigInteger`. JSON columns become JSONB on
PostgreSQL. Names of constraints and indexes follow one convention so migrations can refer to
them on both backends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from bot.core.events.base import DEFAULT_EVENTS, MIN_RELEASE_LEVELS, AlertPreferences, Event

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is stored as UTC and always read back as an aware UTC datetime.

    On SQLite, which stores timestamps as text, the conversion is done here in one step with
    `datetime.fromisoformat`, in exactly the text SQLAlchemy's `DATETIME` writes (so stored
    values compare as before): several times cheaper than its general-purpose processors, and
    a refresh cycle reads and writes a few timestamps per package.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return _utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _to_sqlite_text
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _from_sqlite_text
        return super().result_processor(dialect, coltype)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
    return value.astimezone(UTC)


def _to_sqlite_text(value: datetime | None) -> str | None:
    """UTC wall time as SQLAlchemy's SQLite `DATETIME` writes it: "2026-06-10 12:00:00.000000"."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = _utc(value)
    return value.isoformat(sep=" ", timespec="microseconds")[:-6]  # without "+00:00"


def _from_sqlite_text(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value + "+00:00")


class JsonType(TypeDecorator[Any]):
    """JSON, as JSONB on PostgreSQL. The PostgreSQL dialect is imported when a PostgreSQL
    engine first uses the type, not with the models: a command on SQLite never loads it."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


class TargetKind(StrEnum):
    PACKAGE = "package"
    GRID = "grid"


class AlertStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _default_events() -> list[str]:
    return sorted(DEFAULT_EVENTS)


class Base(DeclarativeBase):
    #: Every model maps one declared table (never a join or a select), so say so to the checker.
    __table__: ClassVar[Table]
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UtcDateTime(),
        list[int]: JsonType(),
        list[str]: JsonType(),
        dict[str, Any]: JsonType(),
    }


class Package(Base):
    """The latest observation of one Django Packages package."""

    __tablename__ = "packages"
    #: Slugs are looked up case-insensitively (`/package`, `/watch add`) and must not scan.
    __table_args__ = (Index("ix_packages_lower_slug", func.lower(text("slug"))),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    slug: Mapped[str] = mapped_column(unique=True)
    title: Mapped[str]
    category_id: Mapped[int | None]
    repo_url: Mapped[str | None] = mapped_column(Text)
    repo_description: Mapped[str] = mapped_column(Text)
    repo_watchers: Mapped[int | None]
    repo_forks: Mapped[int | None]
    pypi_version: Mapped[str | None]
    pypi_url: Mapped[str | None] = mapped_column(Text)
    documentation_url: Mapped[str | None] = mapped_column(Text)
    last_updated: Mapped[datetime | None]
    last_fetched: Mapped[datetime | None]
    commits_over_52: Mapped[list[int]]
    grid_ids: Mapped[list[int]]
    #: `PackageRecord.model_dump(mode="json")`; `PackageRecord.model_validate` rebuilds it.
    record: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    #: `PackagePayload.fingerprint` of the payload last read from a catalog page; None after a
    #: package was fetched on its own (the next crawl then validates it in full).
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    #: `bot.core.health.newest_busy_week(commits_over_52)`: with `last_updated` and
    #: `last_fetched`, the package's health without its record.
    newest_busy_week: Mapped[int | None] = mapped_column(SmallInteger)
    fetched_at: Mapped[datetime]
    next_poll_at: Mapped[datetime] = mapped_column(index=True)
    failure_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: Consecutive 404s from upstream.
    missing_count: Mapped[int] = mapped_column(default=0)
    removed_at: Mapped[datetime | None]


class PackageHistory(Base):
    """One row each time a package's content hash changes (and at its first observation)."""

    __tablename__ = "package_history"
    __table_args__ = (Index(None, "package_id", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"))
    observed_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    pypi_version: Mapped[str | None]
    repo_watchers: Mapped[int | None]
    repo_forks: Mapped[int | None]
    last_updated: Mapped[datetime | None]
    commits_over_52: Mapped[list[int]]


class Grid(Base):
    __tablename__ = "grids"
    __table_args__ = (Index("ix_grids_lower_slug", func.lower(text("slug"))),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    slug: Mapped[str] = mapped_column(unique=True)
    title: Mapped[str]
    description: Mapped[str] = mapped_column(Text)
    is_locked: Mapped[bool]
    header: Mapped[bool]
    #: None until the first membership baseline is taken.
    synced_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime]
    failure_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class GridMember(Base):
    """A package listed in a grid; the package itself may not be stored yet, hence no FK."""

    __tablename__ = "grid_members"

    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True
    )
    package_id: Mapped[int] = mapped_column(primary_key=True, index=True)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    slug: Mapped[str]
    title: Mapped[str]
    title_plural: Mapped[str]
    description: Mapped[str] = mapped_column(Text)
    show_pypi: Mapped[bool]


class Subscription(Base):
    """A channel following a package or a grid, with its alert preferences."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("guild_id", "channel_id", "target_kind", "target_id"),
        #: Who follows a package or grid: asked for every batch of a refresh cycle.
        Index(None, "target_kind", "target_id"),
        CheckConstraint(_one_of("target_kind", tuple(TargetKind)), name="target_kind"),
        CheckConstraint(_one_of("min_release_level", MIN_RELEASE_LEVELS), name="min_release_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    channel_id: Mapped[int] = mapped_column(BigInteger, index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int]
    #: The slug an import named the target by, shown until the target itself is stored.
    target_slug: Mapped[str | None]
    #: Event names (`bot.core.events.base.Event` values) this subscription wants.
    events: Mapped[list[str]] = mapped_column(default=_default_events)
    #: The only role an alert may mention.
    role_id: Mapped[int | None] = mapped_column(BigInteger)
    min_release_level: Mapped[str] = mapped_column(String(16), default="patch")
    include_prereleases: Mapped[bool] = mapped_column(default=True)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    #: Set when delivery cannot reach the channel (gone, forbidden); shown in `/watch list`.
    paused_reason: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def preferences(self) -> AlertPreferences:
        """What this subscription wants to hear about, as change filtering reads it."""
        return AlertPreferences(
            events=frozenset(Event(name) for name in self.events),
            min_release_level=self.min_release_level,  # type: ignore[arg-type]
            include_prereleases=self.include_prereleases,
        )


class Alert(Base):
    """The outbox: one row per (channel, change), written in the poll cycle's transaction."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        CheckConstraint(_one_of("status", tuple(AlertStatus)), name="status"),
        UniqueConstraint("channel_id", "dedup_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True
    )
    guild_id: Mapped[int] = mapped_column(BigInteger)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    package_id: Mapped[int | None]
    grid_id: Mapped[int | None]
    event: Mapped[str] = mapped_column(String(32))
    #: `f"{channel_id}:{change.key}"`: a change reaches a channel once, even if it flaps.
    dedup_key: Mapped[str]
    summary: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    #: A release's level (`bot.core.events.ReleaseLevel`), for digest-bypass filters.
    release_level: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The delivery worker holding the alert (`bot.delivery.identity`), until `lease_until`.
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    #: Posted at once with its role, past a digest and the daily cap (a HIGH or CRITICAL
    #: advisory affecting the latest release or the channel's pin).
    urgent: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class Cycle(Base):
    """Figures of one poll cycle, for `/status` and planning the next one."""

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    mode: Mapped[str] = mapped_column(String(16))
    packages_fetched: Mapped[int] = mapped_column(default=0)
    packages_failed: Mapped[int] = mapped_column(default=0)
    grids_fetched: Mapped[int] = mapped_column(default=0)
    changes: Mapped[int] = mapped_column(default=0)
    alerts_enqueued: Mapped[int] = mapped_column(default=0)
    requests: Mapped[int] = mapped_column(default=0)
    #: Packages counted on Django Packages when the cycle paged the whole catalog.
    catalog_total: Mapped[int | None]


class DigestMode(StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class ChannelSettings(Base):
    """How one channel wants its alerts: a row exists only once a manager changed something."""

    __tablename__ = "channel_settings"
    __table_args__ = (
        CheckConstraint(_one_of("digest_mode", tuple(DigestMode)), name="digest_mode"),
        CheckConstraint("digest_hour BETWEEN 0 AND 23", name="digest_hour"),
        CheckConstraint("digest_weekday BETWEEN 0 AND 6", name="digest_weekday"),
        CheckConstraint("stale_after_days IS NULL OR stale_after_days > 0", name="stale_after"),
        CheckConstraint("daily_cap IS NULL OR daily_cap > 0", name="daily_cap"),
    )

    channel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    digest_mode: Mapped[str] = mapped_column(String(16), default=DigestMode.IMMEDIATE)
    #: UTC hour (0-23) a daily or weekly digest (and the weekly stale report) goes out.
    digest_hour: Mapped[int] = mapped_column(default=9)
    #: Day of a weekly digest and of the stale report, Monday = 0.
    digest_weekday: Mapped[int] = mapped_column(default=0)
    #: Alerts that skip the digest, e.g. "release:major", "stale", "removed".
    digest_bypass: Mapped[list[str]] = mapped_column(default=list)
    #: Overrides `STALE_AFTER_DAYS` for this channel.
    stale_after_days: Mapped[int | None]
    #: At most this many alerts a UTC day; the overflow becomes one summary line.
    daily_cap: Mapped[int | None]
    #: Post a weekly report of the stale packages this channel follows.
    stale_report: Mapped[bool] = mapped_column(default=False)
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeatureComplete(Base):
    """A channel's mark that a package is finished: staleness is silenced for it there."""

    __tablename__ = "feature_complete"

    channel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    package_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: The slug an import named the package by, shown until the package itself is stored.
    package_slug: Mapped[str | None]
    guild_id: Mapped[int] = mapped_column(BigInteger)
    marked_by: Mapped[int | None] = mapped_column(BigInteger)
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryWorkerRow(Base):
    """A live delivery process: it beats every pass, and live workers split Discord's budget."""

    __tablename__ = "delivery_workers"

    #: `host:pid:random`, unique per process start and readable by people.
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    heartbeat_at: Mapped[datetime] = mapped_column(index=True)


class PypiProjectRow(Base):
    """What PyPI last said about a watched package's project, and when to ask again.

    `project` is `bot.core.pypi.project_to_json` of the last good answer (None: unknown);
    `etag` makes the next request conditional. `declared` is the Django versions the latest
    final release that declared any declared: what a `compat` change is measured against.
    """

    __tablename__ = "pypi_projects"

    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    name: Mapped[str] = mapped_column(String(255))
    etag: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime] = mapped_column(index=True)
    failure_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    project: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    declared: Mapped[list[str]] = mapped_column(default=list)


class AnnouncedRelease(Base):
    """A version announced as a release (by either source), so it is announced once, a later
    alert lists the versions published since, and a yank of it is news."""

    __tablename__ = "announced_releases"

    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    version: Mapped[str] = mapped_column(String(128), primary_key=True)
    announced_at: Mapped[datetime]
    #: "pypi" or "djp": which source saw it first.
    source: Mapped[str] = mapped_column(String(16))


class SourceDocument(Base):
    """One document of an optional upstream kept with its ETag (endoflife.date's Django
    cycles): read at most once per its interval, kept when a later read fails. How each
    source is doing is kept here too, as `health:<source>` (`bot.core.source_health`)."""

    __tablename__ = "source_documents"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime]
    body: Mapped[Any] = mapped_column(JsonType, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text)


class OsvRecord(Base):
    """The last copy of an OSV record read, kept so an id is fetched again only when OSV's
    `modified` time for it moves."""

    __tablename__ = "osv_records"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    modified: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any]]
    fetched_at: Mapped[datetime]


class OsvPackage(Base):
    """A PyPI name whose advisories are followed: since when (the silent baseline is what was
    known at the first check) and when OSV was last asked."""

    __tablename__ = "osv_packages"

    pypi_name: Mapped[str] = mapped_column(String(256), primary_key=True)
    checked_at: Mapped[datetime]


class KnownAdvisory(Base):
    """An advisory id known for a PyPI name, with what it said when last read: a `modified`
    move that leaves `material` unchanged is not news."""

    __tablename__ = "known_advisories"

    pypi_name: Mapped[str] = mapped_column(String(256), primary_key=True)
    osv_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    material: Mapped[str] = mapped_column(String(32))
    withdrawn: Mapped[bool] = mapped_column(default=False)
    #: The record's `modified` time this name was last decided on (the stored copy is shared
    #: by every name it affects); None when known before revision 0013.
    modified: Mapped[str | None] = mapped_column(String(64))
    seen_at: Mapped[datetime]


class Pin(Base):
    """A requirement a channel imported (`/watch import`): the version its alerts speak to,
    whether or not the package is on Django Packages (`package_id` None)."""

    __tablename__ = "pins"

    channel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    pypi_name: Mapped[str] = mapped_column(String(256), primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    package_id: Mapped[int | None]
    #: The specifier as written (`==3.14.0`, `>=4.2,<5`), "" for a bare name.
    specifier: Mapped[str] = mapped_column(Text)
    #: The pinned (`==`) or locked version; None when the file only gives a range.
    version: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class Installation(Base):
    """This installation's one row: the key its exports are signed with (`bot.app.transfer`)."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: 32 random bytes, hex: an HMAC key, never shown.
    export_key: Mapped[str] = mapped_column(String(64))


class SearchBudget(Base):
    """Searches of Django Packages made in one minute, for everyone ("all") or one person
    ("user <id>"): the budgets every process on the database shares
    (`storage.search_budget`)."""

    __tablename__ = "search_budget"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Minutes since the epoch.
    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    used: Mapped[int] = mapped_column(Integer)
