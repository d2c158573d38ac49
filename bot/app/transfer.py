"""Export and import of subscriptions, channel settings, feature-complete marks and imported
requirements' pins as JSON.

The document is versioned (`format`, `version`) and validated in full before anything is
written: schema, types, enums, ranges, unknown event names, duplicates and guild consistency.
The first problem is reported in one line saying where it is, e.g.
`subscriptions[3].events: unknown event 'relase'` (indexes count from 0). An import then adds
or overwrites what the document lists and leaves the rest alone, in transactions of
`CHUNK_ENTRIES` entries (so other writers are never locked out for long).

What an import trusts: the CLI export is signed (`signature`, an HMAC under this installation's
key, `storage.installation`). A signed file from this installation is the operator's own backup
and is restored as it is. Any other file (a Discord `/settings export`, another installation's,
or one edited by hand) comes from a guild: it is imported only for the guild the operator names
(`guild`), every entry must belong to that guild, and each webhook URL in it is asked of Discord,
which must say it posts to that entry's channel. Files are bounded in size (`MAX_BYTES`),
entries (`MAX_ENTRIES`) and ids (Discord's 64-bit snowflakes).

Pins (`/watch import`'s versions, which advisory alerts are worded against) came after the
first files were written: `pins` is optional, a file without it imports as before and its
signature is computed as before.

Webhook URLs are credentials: the CLI export includes them (an operator's backup), the Discord
`/settings export` leaves the key out. An import keeps a subscription's stored webhook URL when
the key is absent, and sets or clears it when the key is present.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Iterable,
    Iterator,
    Sequence,
)
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import quotas
from bot.config import Settings
from bot.core import bypass
from bot.core.events import Event
from bot.core.events.base import MinReleaseLevel
from bot.core.plural import counted
from bot.core.pypi_names import normalise_project_name
from bot.delivery.senders import DeliveryFailed, Destination, DestinationGone
from bot.delivery.webhook import InvalidWebhookUrl, stored_webhook, webhook_id
from bot.errors import SentinelError
from storage import KEEP, channels, grids, installation, pins, subscriptions
from storage.channels import SETTING_NAMES
from storage.database import Database
from storage.delivery_queries import package_slugs
from storage.models import DigestMode, Pin, TargetKind
from storage.pins import NewPin
from storage.quota_lock import hold_guild
from storage.subscriptions import Counts

FORMAT: Final = "djp-sentinel"
VERSION = 1
EVENT_NAMES = frozenset(Event)
#: Letters, digits and single hyphens: a project name as PEP 503 normalises it.
_NORMAL_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: The largest import file read (10 MiB: about 20,000 entries as `export` indents them).
MAX_BYTES = 10 * 1024 * 1024
#: The most entries (subscriptions, channels and marks together) one file may hold.
MAX_ENTRIES = 20_000
#: Entries written per transaction: short enough that other writers are never held for long.
CHUNK_ENTRIES = 500
CHUNK_PAUSE = 0.1
#: Ids are stored as signed 64-bit integers (Discord's snowflakes fit).
Id = Annotated[int, Field(gt=0, le=2**63 - 1)]

#: Asks Discord where a webhook URL posts (`bot.delivery.webhook.resolve_webhook`).
ResolveWebhook = Callable[[str], Awaitable[Destination]]


class TransferError(SentinelError):
    """An import document that cannot be used; nothing was changed."""


def _problem(where: str, message: str) -> PydanticCustomError:
    """A validation error whose text already says where it is (for whole-document checks)."""
    return PydanticCustomError(
        "transfer", "{where}: {message}", {"where": where, "message": message}
    )


def _known_events(names: Iterable[str]) -> None:
    for name in names:
        if name not in EVENT_NAMES:
            raise PydanticCustomError("unknown_event", "unknown event '{name}'", {"name": name})


def _bypass_entry(entry: str) -> str:
    """A digest-bypass entry, checked by the one parser of them (`bot.core.bypass`)."""
    try:
        bypass.parse_entry(entry)
    except bypass.UnknownBypass as exc:
        raise PydanticCustomError("unknown_bypass", "{message}", {"message": str(exc)}) from None
    return entry


BypassText = Annotated[str, AfterValidator(_bypass_entry)]


def _normalised_name(name: str) -> str:
    if not _NORMAL_NAME.fullmatch(name) or normalise_project_name(name) != name:
        raise PydanticCustomError(
            "pypi_name", "not a PyPI name in normal form (PEP 503), e.g. 'django-debug-toolbar'"
        )
    return name


def _specifier(text: str) -> str:
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        raise PydanticCustomError("specifier", "not a version specifier") from None
    return text


#: A project name in PEP 503's normal form, as pins store it (`storage.models.Pin`).
PypiName = Annotated[str, Field(max_length=256), AfterValidator(_normalised_name)]
#: A requirement's specifier as written (`>=4.2,<5`, `==3.14.0`), "" for a bare name.
SpecifierText = Annotated[str, Field(max_length=1000), AfterValidator(_specifier)]
#: A pinned or locked version (`===` may pin any string without spaces).
VersionText = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.+!-]+$")]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    guild_id: Id
    channel_id: Id


class SubscriptionEntry(_Entry):
    """A channel following a package or a grid; the slug is for people reading the file."""

    target_kind: TargetKind
    target_id: Id
    target_slug: str | None = None
    events: list[str]
    role_id: Id | None = None
    min_release_level: MinReleaseLevel
    include_prereleases: bool
    #: Left out of Discord exports; absent on import means "keep the stored one".
    webhook_url: str | None = None

    @field_validator("events")
    @classmethod
    def _events(cls, names: list[str]) -> list[str]:
        _known_events(names)
        return sorted(set(names))


class ChannelEntry(_Entry):
    """A channel's settings: the fields of `storage.channels.ChannelPreferences`."""

    digest_mode: DigestMode
    digest_hour: int = Field(ge=0, le=23)
    digest_weekday: int = Field(ge=0, le=6)
    #: Event names, or releases of a level and above: "stale", "release:major".
    digest_bypass: list[BypassText]
    #: The ranges `/settings staleness` and `/settings cap` accept.
    stale_after_days: Annotated[int, Field(gt=0, le=3650)] | None = None
    daily_cap: Annotated[int, Field(gt=0, le=1000)] | None = None
    stale_report: bool


class MarkEntry(_Entry):
    """A package a channel marked feature-complete; the slug is for people reading the file."""

    package_id: Id
    package_slug: str | None = None


class PinEntry(_Entry):
    """A requirement a channel imported (`/watch import`): the version its advisory alerts
    are worded against, and the listing it was matched to (None: not on Django Packages)."""

    pypi_name: PypiName
    specifier: SpecifierText = ""
    version: VersionText | None = None
    package_id: Id | None = None

    @classmethod
    def of(cls, pin: Pin) -> PinEntry:
        return cls.model_validate(pin, from_attributes=True)

    def new_pin(self) -> NewPin:
        return NewPin(self.pypi_name, self.specifier, self.version, self.package_id)


E = TypeVar("E", bound=_Entry)


def _indexed(name: str, entries: Sequence[E]) -> Iterator[tuple[str, E]]:
    """Each entry with its path in the document, e.g. ("channels[2]", entry)."""
    return ((f"{name}[{index}]", entry) for index, entry in enumerate(entries))


def _no_duplicates(entries: Iterable[tuple[str, E]], key: Callable[[E], Hashable]) -> None:
    first: dict[Hashable, str] = {}
    for path, entry in entries:
        earlier = first.setdefault(key(entry), path)
        if earlier != path:
            raise _problem(path, f"duplicate of {earlier}")


class TransferDocument(BaseModel):
    """Subscriptions and settings of one guild (`guild_id`), or of every guild (`None`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["djp-sentinel"] = FORMAT
    version: int = VERSION
    exported_at: datetime
    guild_id: Id | None = None
    subscriptions: list[SubscriptionEntry] = []
    channels: list[ChannelEntry] = []
    feature_complete: list[MarkEntry] = []
    #: Absent from files written before pins were exported.
    pins: list[PinEntry] = []
    #: This installation's HMAC of everything else: present on the CLI's exports only.
    signature: str | None = None

    @field_validator("version")
    @classmethod
    def _supported(cls, version: int) -> int:
        if version != VERSION:
            raise PydanticCustomError(
                "version", "version {version} is not supported (only 1)", {"version": version}
            )
        return version

    @model_validator(mode="after")
    def _consistent(self) -> TransferDocument:
        """No entry twice; a channel belongs to one guild, the document's when it names one."""
        entries = sum(1 for _ in self.entries())
        if entries > MAX_ENTRIES:
            raise _problem("entries", f"{entries:,}, more than the {MAX_ENTRIES:,} of one file")
        _no_duplicates(
            _indexed("subscriptions", self.subscriptions),
            lambda e: (e.channel_id, e.target_kind, e.target_id),
        )
        _no_duplicates(_indexed("channels", self.channels), lambda e: e.channel_id)
        _no_duplicates(
            _indexed("feature_complete", self.feature_complete),
            lambda e: (e.channel_id, e.package_id),
        )
        _no_duplicates(_indexed("pins", self.pins), lambda e: (e.channel_id, e.pypi_name))
        guild_of: dict[int, tuple[int, str]] = {}
        for path, entry in self.entries():
            if self.guild_id is not None and entry.guild_id != self.guild_id:
                raise _problem(f"{path}.guild_id", f"not the document's guild {self.guild_id}")
            guild, first = guild_of.setdefault(entry.channel_id, (entry.guild_id, path))
            if guild != entry.guild_id:
                raise _problem(f"{path}.guild_id", f"channel's guild is {guild} in {first}")
        return self

    def entries(self) -> Iterator[tuple[str, _Entry]]:
        """Every entry of the lists with its path."""
        yield from _indexed("subscriptions", self.subscriptions)
        yield from _indexed("channels", self.channels)
        yield from _indexed("feature_complete", self.feature_complete)
        yield from _indexed("pins", self.pins)


def _where(location: tuple[int | str, ...]) -> str:
    """`("subscriptions", 3, "events")` → `subscriptions[3].events`."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def parse_document(text: str | bytes, *, test_host: str | None = None) -> TransferDocument:
    """Validate an import document strictly (no "1" for 1, no 1 for true); raise
    `TransferError` naming the first problem, never quoting a value (a webhook URL is a secret).

    Webhook URLs are checked here, on the way in: Discord's hosts only (or `test_host`, the
    WEBHOOK_TEST_HOST setting); an export writes whatever is stored, so it never fails on a
    stored URL.
    """
    if len(text) > MAX_BYTES:
        raise TransferError(f"The file is larger than {MAX_BYTES // 2**20} MiB: nothing imported.")
    try:
        document = TransferDocument.model_validate_json(text, strict=True)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        message = error["msg"][:1].lower() + error["msg"][1:]
        where = _where(error["loc"])
        raise TransferError(f"{where}: {message}" if where else message) from None
    for path, entry in _indexed("subscriptions", document.subscriptions):
        if entry.webhook_url is None:
            continue
        try:
            webhook_id(entry.webhook_url, test_host=test_host)
        except InvalidWebhookUrl:
            raise TransferError(f"{path}.webhook_url: not a Discord webhook URL") from None
    return document


def signed(document: TransferDocument, key: bytes) -> TransferDocument:
    """`document` with its signature under `key`."""
    return document.model_copy(update={"signature": _signature(document, key)})


def _signature(document: TransferDocument, key: bytes) -> str:
    """The HMAC-SHA256 of the document's content as JSON with sorted keys, signature left out
    (the same on export and on import: both sign the validated model, not the file's text),
    and no pins left out too, so a backup written before pins were exported still verifies."""
    unsigned = {"signature"} | (set() if document.pins else {"pins"})  # as before pins
    content = document.model_dump(mode="json", exclude=unsigned)
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _signed_by(document: TransferDocument, key: bytes) -> bool:
    return document.signature is not None and hmac.compare_digest(
        document.signature, _signature(document, key)
    )


# -- export --------------------------------------------------------------------------------------


async def export_document(
    database: Database, *, now: datetime, guild_id: int | None = None
) -> TransferDocument:
    """Every guild's subscriptions and settings, or one guild's, as a document."""
    async with database.session() as session:
        subs = await subscriptions.all_subscriptions(session, guild_id=guild_id)
        settings = await channels.changed_preferences(session, guild_id=guild_id)
        marks = await channels.feature_complete_marks(session, guild_id=guild_id)
        pinned = await pins.all_pins(session, guild_id=guild_id)
        package_ids = {s.target_id for s in subs if s.target_kind == TargetKind.PACKAGE}
        slugs = {
            TargetKind.PACKAGE: await package_slugs(
                session, package_ids | {m.package_id for m in marks}
            ),
            TargetKind.GRID: await grids.grid_slugs(
                session, {s.target_id for s in subs if s.target_kind == TargetKind.GRID}
            ),
        }
    return TransferDocument(
        exported_at=now,
        guild_id=guild_id,
        subscriptions=[
            SubscriptionEntry(
                guild_id=s.guild_id,
                channel_id=s.channel_id,
                target_kind=TargetKind(s.target_kind),
                target_id=s.target_id,
                target_slug=slugs[TargetKind(s.target_kind)].get(s.target_id) or s.target_slug,
                events=s.events,
                role_id=s.role_id,
                min_release_level=s.preferences.min_release_level,
                include_prereleases=s.include_prereleases,
                webhook_url=s.webhook_url,
            )
            for s in subs
        ],
        channels=[
            ChannelEntry(
                guild_id=guild,
                **(asdict(prefs) | {"digest_bypass": bypass.usable(prefs.digest_bypass)}),
            )
            for guild, prefs in settings
        ],
        feature_complete=[
            MarkEntry(
                **mark._asdict()
                | {
                    "package_slug": slugs[TargetKind.PACKAGE].get(mark.package_id)
                    or mark.package_slug
                }
            )
            for mark in marks
        ],
        pins=[PinEntry.of(pin) for pin in pinned],
    )


def document_json(document: TransferDocument, *, webhook_urls: bool) -> str:
    """The document as indented JSON, with or without the subscriptions' webhook URLs (and
    without `pins` when there are none: the file reads as it did before pins were exported)."""
    hidden: dict[str, Any] = {} if webhook_urls else {"subscriptions": {"__all__": {"webhook_url"}}}
    if document.signature is None:
        hidden["signature"] = True
    if not document.pins:
        hidden["pins"] = True
    return document.model_dump_json(indent=2, exclude=hidden) + "\n"


async def export_backup(
    database: Database, *, now: datetime, guild_id: int | None = None
) -> TransferDocument:
    """The CLI's export: webhook URLs included, signed with this installation's key, so that
    importing it here again is trusted as the operator's own backup."""
    document = await export_document(database, now=now, guild_id=guild_id)
    async with database.session() as session:
        return signed(document, await installation.export_key(session))


async def export_guild_json(database: Database, guild_id: int, *, now: datetime) -> str:
    """One guild's document for `/settings export`: webhook URLs (credentials) left out."""
    document = await export_document(database, now=now, guild_id=guild_id)
    return document_json(document, webhook_urls=False)


# -- import --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import wrote."""

    subscriptions: int
    subscriptions_created: int
    channels: int
    marks: int
    marks_added: int
    pins: int = 0

    def describe(self) -> str:
        """E.g. "Imported 3 subscriptions (2 new), the settings of 1 channel and 2
        feature-complete marks (2 new). Restored 4 pins." (pins only when the file has some)."""
        imported = (
            f"Imported {counted(self.subscriptions, 'subscription')} "
            f"({self.subscriptions_created} new), the settings of "
            f"{counted(self.channels, 'channel')} and "
            f"{counted(self.marks, 'feature-complete mark')} ({self.marks_added} new)."
        )
        return imported + (f" Restored {counted(self.pins, 'pin')}." if self.pins else "")


async def import_document(
    database: Database,
    document: TransferDocument,
    *,
    now: datetime,
    settings: Settings,
    guild: int | None = None,
    resolve: ResolveWebhook | None = None,
) -> ImportSummary:
    """Write a validated document after checking what it may change (see the module's
    docstring): this installation's signed export as it is; any other file only for `guild`,
    its webhook URLs confirmed by `resolve` (required for such a file that holds any). Raises
    `TransferError` before writing anything when the file may not be imported, or when its new
    webhook routes would pass a channel's or server's quota (`settings`)."""
    async with database.session() as session:
        own = _signed_by(document, await installation.export_key(session))
    if guild is not None:
        _only_guild(document, guild)
    elif not own:
        raise TransferError(
            "This file was not written by this installation's `export` (or was changed since): "
            "import one guild's entries from it with --guild ID. Nothing was imported."
        )
    if not own:
        await _confirm_webhooks(document, resolve)
    try:  # all of them before anything is written, as the import commits in chunks
        async with database.session() as session:
            await _within_webhook_quotas(session, document.subscriptions, settings)
    except quotas.QuotaReached as exc:
        raise TransferError(f"{exc} Nothing was imported.") from None
    return await _write(database, document, now=now, settings=settings)


def _only_guild(document: TransferDocument, guild: int) -> None:
    """Refuse a document holding anything of another guild than `guild`."""
    if document.guild_id is not None and document.guild_id != guild:
        raise TransferError(f"guild_id: not guild {guild} (--guild). Nothing was imported.")
    for path, entry in document.entries():
        if entry.guild_id != guild:
            raise TransferError(
                f"{path}.guild_id: not guild {guild} (--guild). Nothing was imported."
            )


async def _confirm_webhooks(document: TransferDocument, resolve: ResolveWebhook | None) -> None:
    """Ask Discord about each webhook URL of a guild's file: it must post to its entry's
    channel (else an entry could route a guild's alerts to anyone's webhook)."""
    for path, entry in _indexed("subscriptions", document.subscriptions):
        if entry.webhook_url is None:
            continue
        hook = stored_webhook(entry.webhook_url)[0]
        if resolve is None:
            raise TransferError(f"{path}.webhook_url: cannot ask Discord about webhook {hook}.")
        try:
            destination = await resolve(entry.webhook_url)
        except (InvalidWebhookUrl, DestinationGone, DeliveryFailed) as exc:
            raise TransferError(f"{path}.webhook_url: {exc} Nothing was imported.") from None
        if (destination.guild_id, destination.channel_id) != (entry.guild_id, entry.channel_id):
            raise TransferError(
                f"{path}.webhook_url: Discord says webhook {hook} posts to channel "
                f"{destination.channel_id}, not {entry.channel_id}. Nothing was imported."
            )


async def _within_webhook_quotas(
    session: AsyncSession, entries: Sequence[SubscriptionEntry], settings: Settings
) -> None:
    """Raise `QuotaReached` when the new webhook routes of `entries` would pass a channel's or
    a server's quota."""
    wanted: dict[int, dict[int, list[tuple[TargetKind, int]]]] = {}
    for entry in entries:
        if entry.webhook_url is not None:
            by_channel = wanted.setdefault(entry.guild_id, {})
            by_channel.setdefault(entry.channel_id, []).append((entry.target_kind, entry.target_id))
    for guild_id, by_channel in wanted.items():
        new = {
            channel_id: await quotas.new_webhook_routes(session, channel_id, targets)
            for channel_id, targets in by_channel.items()
        }
        for channel_id, adding in new.items():
            await quotas.check_webhook_routes(
                session,
                settings,
                guild_id=guild_id,
                channel_id=channel_id,
                adding=Counts(guild=sum(new.values()), channel=adding),
                named=True,
            )


async def _hold_webhook_quotas(
    session: AsyncSession, chunk: Sequence[SubscriptionEntry], settings: Settings
) -> None:
    """Hold the guilds `chunk` routes webhooks to (`storage.quota_lock`, in one order, so two
    imports cannot wait on each other) and check their quotas again: what was checked up front
    may have been taken since by `webhook add` or another import."""
    for guild_id in sorted({entry.guild_id for entry in chunk if entry.webhook_url is not None}):
        await hold_guild(session, guild_id)
    await _within_webhook_quotas(session, chunk, settings)


async def _chunks(entries: Sequence[E]) -> AsyncIterator[Sequence[E]]:
    """`entries` by `CHUNK_ENTRIES`, with a pause between chunks in which a writer waiting
    for SQLite's lock gets it (its busy handler retries at most every 100 ms)."""
    for start in range(0, len(entries), CHUNK_ENTRIES):
        if start:
            await asyncio.sleep(CHUNK_PAUSE)
        yield entries[start : start + CHUNK_ENTRIES]


async def _write(
    database: Database, document: TransferDocument, *, now: datetime, settings: Settings
) -> ImportSummary:
    """Write the entries, `CHUNK_ENTRIES` a transaction."""
    created = added = written = 0
    async for chunk in _chunks(document.subscriptions):
        async with database.transaction() as session:
            try:
                await _hold_webhook_quotas(session, chunk, settings)
            except quotas.QuotaReached as exc:
                raise TransferError(
                    f"{exc} Of the file's "
                    f"{counted(len(document.subscriptions), 'subscription')}, {written:,} "
                    "were imported before it; nothing else was."
                ) from None
            written += len(chunk)
            for entry in chunk:
                _, outcome = await subscriptions.subscribe(
                    session,
                    guild_id=entry.guild_id,
                    channel_id=entry.channel_id,
                    target_kind=entry.target_kind,
                    target_id=entry.target_id,
                    created_by=None,
                    events=entry.events,
                    role_id=entry.role_id,
                    min_release_level=entry.min_release_level,
                    include_prereleases=entry.include_prereleases,
                    webhook_url=entry.webhook_url
                    if "webhook_url" in entry.model_fields_set
                    else KEEP,
                    target_slug=entry.target_slug,
                )
                created += outcome == "created"
    async for settings_chunk in _chunks(document.channels):
        async with database.transaction() as session:
            for channel in settings_chunk:
                await channels.update_preferences(
                    session,
                    guild_id=channel.guild_id,
                    channel_id=channel.channel_id,
                    updated_by=None,
                    now=now,
                    **channel.model_dump(include=set(SETTING_NAMES)),
                )
    async for mark_chunk in _chunks(document.feature_complete):
        async with database.transaction() as session:
            for mark in mark_chunk:
                added += await channels.mark_feature_complete(
                    session,
                    guild_id=mark.guild_id,
                    channel_id=mark.channel_id,
                    package_id=mark.package_id,
                    marked_by=None,
                    now=now,
                    package_slug=mark.package_slug,
                )
    async for pin_chunk in _chunks(document.pins):
        async with database.transaction() as session:
            await pins.restore_pins(
                session,
                [(pin.guild_id, pin.channel_id, pin.new_pin()) for pin in pin_chunk],
                now=now,
            )
    return ImportSummary(
        len(document.subscriptions),
        created,
        len(document.channels),
        len(document.feature_complete),
        added,
        len(document.pins),
    )
