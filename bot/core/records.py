"""Typed, immutable records parsed from Django Packages API v4 payloads.

Everything upstream sends is normalised here, once, so the rest of the app never sees the
API's quirks: timestamps become aware UTC datetimes (naive ones are New York time), hyperlinks
become ids whatever their query string, legacy `pypi_url` forms become one canonical URL, and
empty strings in nullable fields become `None`. `commits_over_52 == []` stays an empty tuple
(unknown), distinct from 52 zeros (known to be quiet).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from bot import __version__
from bot.core.printable import printable
from bot.core.slugs import MAX_ID, SLUG_PATTERN
from bot.errors import InvalidRecord

UPSTREAM_TZ = ZoneInfo("America/New_York")
COMMIT_WEEKS = 52

_LINK_ID = re.compile(r"/api/v\d+/(?P<kind>packages|grids|categories)/(?P<id>\d+)/?(?:[?#].*)?$")
_PYPI_PREFIXES = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:pypi\.python\.org/pypi/|pypi\.org/project/|pypi\.org/pypi/)",
    re.IGNORECASE,
)


def parse_timestamp(value: Any) -> datetime | None:
    """ISO-8601 text (offset or naive New York time) to an aware UTC datetime."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO-8601 string, got {type(value).__name__}")
    text = value.strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UPSTREAM_TZ)
    return parsed.astimezone(UTC)


@lru_cache(maxsize=4096)  # the same few hundred grid and category links, page after page
def link_id(url: str, kind: Literal["packages", "grids", "categories"]) -> int:
    """The numeric id at the end of an API hyperlink, ignoring host and query string."""
    match = _LINK_ID.search(url.strip())
    if match is None or match["kind"] != kind or not 0 < int(match["id"]) <= MAX_ID:
        raise ValueError(f"not a {kind} link: {url!r}")
    return int(match["id"])


def normalise_pypi_url(value: str | None) -> str | None:
    """Any legacy `pypi_url` form to `https://pypi.org/project/<name>/`, or `None` when empty."""
    if not value or not value.strip():
        return None
    name = _PYPI_PREFIXES.sub("", value.strip()).strip("/").split("/", 1)[0]
    return f"https://pypi.org/project/{name}/" if name else None


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


OptionalUtcDatetime = Annotated[datetime | None, BeforeValidator(parse_timestamp)]
OptionalText = Annotated[StrictStr | None, BeforeValidator(_blank_to_none)]
#: Our tables hold ids and counts as 32-bit integers; a larger number is bad data, refused with
#: the record rather than failing the batch it came in.
RecordId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_ID)]


class _Record(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="ignore", str_strip_whitespace=True, populate_by_name=True
    )


#: Left out of `PackageRecord.content_hash`.
_NOT_CONTENT = {"last_fetched"}

#: Fields whose unknown value (`None`, or a blank title) keeps the last known one: every field
#: an event compares, and `last_fetched`, the moment the commit window was read.
KEPT_WHEN_UNKNOWN = (
    "title",
    "category_id",
    "last_updated",
    "last_fetched",
    "repo_url",
    "repo_watchers",
    "repo_forks",
    "pypi_version",
    "documentation_url",
)


class PackageRecord(_Record):
    """One package as Django Packages describes it, normalised.

    Upstream's `modified` is not kept: it moves only when someone edits the row by hand, never
    with the data we watch, so it is no change signal and nothing shows it.
    """

    id: RecordId
    slug: StrictStr = Field(pattern=SLUG_PATTERN)
    title: StrictStr
    category_id: int | None = Field(default=None, validation_alias="category")
    grid_ids: tuple[int, ...] = Field(default=(), validation_alias="grids")
    last_updated: OptionalUtcDatetime = None
    last_fetched: OptionalUtcDatetime = None
    created: OptionalUtcDatetime = None
    repo_url: OptionalText = None
    repo_description: StrictStr = ""
    repo_watchers: Count | None = None
    repo_forks: Count | None = None
    pypi_version: OptionalText = None
    pypi_url: Annotated[str | None, BeforeValidator(normalise_pypi_url)] = None
    documentation_url: OptionalText = None
    commits_over_52: tuple[Count, ...] = ()
    participants: tuple[StrictStr, ...] = ()

    @field_validator("category_id", mode="before")
    @classmethod
    def _category_link(cls, value: Any) -> int | None:
        if value is None or isinstance(value, int):
            return value
        if not isinstance(value, str):
            raise ValueError("expected a category link")
        return link_id(value, "categories")

    @field_validator("grid_ids", mode="before")
    @classmethod
    def _grid_links(cls, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list | tuple):
            raise ValueError("expected a list of grid links")
        return tuple(sorted({v if isinstance(v, int) else link_id(v, "grids") for v in value}))

    @field_validator("commits_over_52")
    @classmethod
    def _fifty_two_weeks(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if value and len(value) != COMMIT_WEEKS:
            raise ValueError(f"expected [] or {COMMIT_WEEKS} weekly counts, got {len(value)}")
        return value

    @property
    def commits_known(self) -> bool:
        """False when upstream has no commit data (`[]`), as opposed to 52 quiet weeks."""
        return bool(self.commits_over_52)

    def keeping_known(self, last_known: PackageRecord) -> PackageRecord:
        """This record with every field it leaves unknown taken from `last_known`.

        Unknown data is never a change: a field that goes missing for a cycle keeps its last
        known value, so when it comes back it is compared with that value, as if the gap never
        happened. `commits_over_52` is read at `last_fetched`, so the two travel together.
        """
        filled = {
            name: getattr(last_known, name)
            for name in KEPT_WHEN_UNKNOWN
            if getattr(self, name) in (None, "") and getattr(last_known, name) not in (None, "")
        }
        if not self.commits_known and last_known.commits_known:
            filled["commits_over_52"] = last_known.commits_over_52
            filled["last_fetched"] = last_known.last_fetched
        return self.model_copy(update=filled) if filled else self

    def content_hash(self) -> str:
        """A digest of what the record says about the package, ignoring bookkeeping fields.

        `last_fetched` moves without the package changing, so it is left out: a new hash means
        a new history row.
        """
        encoded = self.model_dump_json(exclude=_NOT_CONTENT).encode()
        return hashlib.blake2b(encoded, digest_size=16).hexdigest()


class GridRecord(_Record):
    """A grid (curated comparison list) and the ids of its member packages."""

    id: RecordId
    slug: StrictStr = Field(pattern=SLUG_PATTERN)
    title: StrictStr
    description: StrictStr = ""
    is_locked: StrictBool = False
    header: StrictBool = False
    #: Required: a grid served without its member list says nothing about membership, so it is
    #: skipped for the cycle rather than read as a grid that lost every package.
    package_ids: tuple[int, ...] = Field(validation_alias="packages")
    created: OptionalUtcDatetime = None
    modified: OptionalUtcDatetime = None

    @field_validator("package_ids", mode="before")
    @classmethod
    def _package_links(cls, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list | tuple):
            raise ValueError("expected a list of package links")
        ids = (v if isinstance(v, int) else link_id(v, "packages") for v in value)
        return tuple(dict.fromkeys(ids))


class CategoryRecord(_Record):
    """A package category (App, Framework, Other, ...)."""

    id: RecordId
    slug: StrictStr = Field(pattern=SLUG_PATTERN)
    title: StrictStr
    title_plural: StrictStr = ""
    description: StrictStr = ""
    show_pypi: StrictBool = True


class SearchHit(_Record):
    """One entry of `/api/v4/search/`: a package or a grid."""

    item_type: Literal["package", "grid"]
    slug: StrictStr = Field(pattern=SLUG_PATTERN)
    title: StrictStr
    description: StrictStr = ""
    repo_watchers: int = 0


#: Payload keys that move without the package changing, left out of its fingerprint.
_BOOKKEEPING_KEYS = frozenset({"last_fetched", "modified"})
#: Salts every fingerprint: a version that parses payloads differently re-reads each one once.
_FINGERPRINT_SALT = f"djp-sentinel {__version__}".encode()


class PackagePayload(NamedTuple):
    """One package of a catalog page as received, validated only once it may have changed.

    Two payloads with the same `fingerprint` parse to the same record apart from
    `last_fetched` (see `payload_fingerprint`), so a refresh that finds the stored fingerprint
    knows the stored content without running the validation (most of a refresh's CPU). A
    `NamedTuple`, as a crawl builds thousands.
    """

    id: int
    data: Mapping[str, Any]
    fingerprint: str | None

    @classmethod
    def of(cls, data: Any) -> PackagePayload:
        """Raises `InvalidRecord` for anything without a usable id (it could not be stored)."""
        package_id = data.get("id") if isinstance(data, dict) else None
        if type(package_id) is not int or not 0 < package_id <= MAX_ID:
            parse_package(data)  # raises, naming what is wrong
            raise InvalidRecord("package", None, "id", "not a package id")
        return cls(package_id, data, payload_fingerprint(data))

    def parse(self) -> PackageRecord:
        """The validated record; raises `InvalidRecord` naming the bad field."""
        return parse_package(self.data)

    def last_fetched(self) -> datetime | None:
        """Upstream's `last_fetched` alone, as the record would read it (`ValueError` if it is
        not a timestamp)."""
        return parse_timestamp(self.data.get("last_fetched"))

    @property
    def commits_known(self) -> bool:
        """Whether the payload carries a commit window (`[]` or no window is unknown)."""
        return bool(self.data.get("commits_over_52"))


def payload_fingerprint(data: Mapping[str, Any]) -> str | None:
    """A digest of a package payload as received, ignoring `last_fetched` and `modified`; None
    when the payload holds something JSON cannot carry back (it is then validated every time).
    """
    content = dict(data)
    for key in _BOOKKEEPING_KEYS:
        content.pop(key, None)
    try:
        encoded = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits
        return None
    return hashlib.blake2b(encoded, digest_size=16, key=_FINGERPRINT_SALT).hexdigest()


R = TypeVar("R", bound=_Record)


def _parse(model: type[R], kind: str, data: Any) -> R:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "(record)"
        record_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(record_id, int):  # upstream text: it ends up in log lines
            record_id = printable(repr(record_id))[:40]
        raise InvalidRecord(kind, record_id, printable(field), printable(error["msg"])) from None


def parse_package(data: Any) -> PackageRecord:
    """Validate one package payload; raise `InvalidRecord` naming its id and the bad field."""
    return _parse(PackageRecord, "package", data)


def parse_grid(data: Any) -> GridRecord:
    return _parse(GridRecord, "grid", data)


def parse_category(data: Any) -> CategoryRecord:
    return _parse(CategoryRecord, "category", data)


def parse_search_hit(data: Any) -> SearchHit:
    return _parse(SearchHit, "search hit", data)
