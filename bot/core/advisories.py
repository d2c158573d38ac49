"""Security advisories (OSV records) as the bot reads them: one package's view of a record,
which versions it affects, its severity, and how records naming each other are one
vulnerability.

OSV's `ECOSYSTEM` ranges are ordered event lists: `introduced` opens a range, `fixed` closes it
(excluded) and `last_affected` closes it (included); `introduced: "0"` means from the first
release. PYSEC records also list every affected version in `versions`, which is trusted as well
(a version that PEP 440 cannot read is matched by its text there). Severity is the record's
`database_specific.severity` (GitHub's reviewed word) when it has one, else the qualitative
rating of its highest CVSS v3/v4 base score.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from bot.core.pypi_names import normalise_project_name

#: Severity words, lowest first; GitHub says MODERATE where CVSS says MEDIUM.
SEVERITIES = ("LOW", "MODERATE", "HIGH", "CRITICAL")
URGENT_SEVERITIES = frozenset({"HIGH", "CRITICAL"})
_SEVERITY_WORDS = {"MEDIUM": "MODERATE"}
#: The id prefixes whose records have a page of their own, most useful first.
_LINKS = {
    "GHSA-": "https://github.com/advisories/{}",
    "PYSEC-": "https://osv.dev/vulnerability/{}",
    "CVE-": "https://nvd.nist.gov/vuln/detail/{}",
}


class MalformedAdvisory(ValueError):
    """An OSV record without what every record must have (an id, a `modified` time)."""


@dataclass(frozen=True, slots=True)
class Span:
    """One affected range: from `introduced` (None: the first release) to `fixed` (excluded)
    or `last_affected` (included); neither means every later release."""

    introduced: str | None
    fixed: str | None = None
    last_affected: str | None = None

    def text(self) -> str:
        """ "<2.2.24", ">=3.0,<3.1.12", ">=1.0,<=1.4", ">=5.0"."""
        parts = [f">={self.introduced}"] if self.introduced else []
        if self.fixed:
            parts.append(f"<{self.fixed}")
        elif self.last_affected:
            parts.append(f"<={self.last_affected}")
        return ",".join(parts) or "every version"

    def covers(self, version: Version) -> bool:
        low = _version(self.introduced) if self.introduced else None
        if self.introduced and low is None:
            return False
        if low is not None and version < low:
            return False
        high = _version(self.fixed or self.last_affected or "")
        if high is None:
            return not (self.fixed or self.last_affected)
        return version < high if self.fixed else version <= high


@dataclass(frozen=True, slots=True)
class Advisory:
    """One OSV record as it concerns one PyPI package."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    modified: str
    published: str | None
    withdrawn: str | None
    severity: str | None
    spans: tuple[Span, ...]
    versions: frozenset[str]
    references: tuple[str, ...]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset((self.id, *self.aliases))

    @property
    def fixed(self) -> tuple[str, ...]:
        """Fixed versions, lowest first."""
        return _sorted_versions({span.fixed for span in self.spans if span.fixed})

    def affects(self, version: str | None) -> bool:
        """Whether `version` is affected (False for an unknown version or a withdrawn record)."""
        if version is None or self.withdrawn:
            return False
        if version in self.versions:
            return True
        parsed = _version(version)
        return parsed is not None and any(span.covers(parsed) for span in self.spans)

    def material(self) -> str:
        """A digest of what an alert says is affected and fixed: a `modified` time that moves
        without this moving is not news."""
        facts = [sorted(span.text() for span in self.spans), self.severity]
        return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:16]


@lru_cache(maxsize=4096)
def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _sorted_versions(texts: Iterable[str]) -> tuple[str, ...]:
    """Versions in PEP 440 order (those it cannot read last, by text)."""
    return tuple(sorted(texts, key=lambda t: (_version(t) is None, _version(t) or Version("0"), t)))


def _text(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    return value if isinstance(value, str) and value else None


def _spans(ranges: Sequence[Any]) -> list[Span]:
    spans: list[Span] = []
    for block in ranges:
        if not isinstance(block, Mapping) or block.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        opened: str | None = None
        is_open = False
        for event in block.get("events") or ():
            if not isinstance(event, Mapping):
                continue
            if "introduced" in event:
                introduced = str(event["introduced"])
                opened, is_open = (None if introduced == "0" else introduced), True
            elif is_open and "fixed" in event:
                spans.append(Span(opened, fixed=str(event["fixed"])))
                is_open = False
            elif is_open and "last_affected" in event:
                spans.append(Span(opened, last_affected=str(event["last_affected"])))
                is_open = False
        if is_open:
            spans.append(Span(opened))
    return spans


def severity_of(record: Mapping[str, Any]) -> str | None:
    """ "CRITICAL", "HIGH", "MODERATE" or "LOW"; None when the record rates nothing."""
    specific = record.get("database_specific")
    if isinstance(specific, Mapping) and isinstance(specific.get("severity"), str):
        word = str(specific["severity"]).upper()
        word = _SEVERITY_WORDS.get(word, word)
        if word in SEVERITIES:
            return word
    scores = [score for entry in record.get("severity") or () if (score := _cvss(entry))]
    return _rating(max(scores)) if scores else None


def _cvss(entry: Any) -> float | None:
    """The base score of one `severity` entry (CVSS v3 or v4 vector), or None."""
    if not isinstance(entry, Mapping) or not isinstance(entry.get("score"), str):
        return None
    from cvss import CVSS3, CVSS4  # imported when a record needs it: the CLI starts faster
    from cvss.exceptions import CVSSError

    kind = {"CVSS_V3": CVSS3, "CVSS_V4": CVSS4}.get(str(entry.get("type")))
    if kind is None:
        return None
    try:
        return float(kind(entry["score"]).base_score)
    except (CVSSError, ValueError):
        return None


def _rating(score: float) -> str | None:
    if score >= 9.0:
        return "CRITICAL"
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MODERATE"
    return "LOW" if score > 0 else None


def parse_advisory(record: Mapping[str, Any], pypi_name: str) -> Advisory:
    """The record's view of the PyPI package `pypi_name` (any spelling); raises
    `MalformedAdvisory` when the record lacks an id or `modified`."""
    vuln_id, modified = _text(record, "id"), _text(record, "modified")
    if vuln_id is None or modified is None:
        raise MalformedAdvisory("an OSV record without an id or a modified time")
    wanted = normalise_project_name(pypi_name)
    spans: list[Span] = []
    versions: set[str] = set()
    for affected in record.get("affected") or ():
        package = affected.get("package") if isinstance(affected, Mapping) else None
        if not isinstance(package, Mapping) or package.get("ecosystem") != "PyPI":
            continue
        if normalise_project_name(str(package.get("name", ""))) != wanted:
            continue
        spans += _spans(affected.get("ranges") or ())
        versions.update(str(v) for v in affected.get("versions") or ())
    aliases = tuple(str(a) for a in record.get("aliases") or () if a != vuln_id)
    references = tuple(
        str(ref["url"])
        for ref in record.get("references") or ()
        if isinstance(ref, Mapping) and isinstance(ref.get("url"), str)
    )
    return Advisory(
        id=vuln_id,
        aliases=aliases,
        summary=" ".join((_text(record, "summary") or _text(record, "details") or "").split())[
            :300
        ],
        modified=modified,
        published=_text(record, "published"),
        withdrawn=_text(record, "withdrawn"),
        severity=severity_of(record),
        spans=tuple(dict.fromkeys(spans)),
        versions=frozenset(versions),
        references=references,
    )


def parse_records(
    records: Iterable[Mapping[str, Any]], pypi_name: str
) -> tuple[list[Advisory], int]:
    """The records' views of `pypi_name`, and how many were malformed (skipped)."""
    parsed, malformed = [], 0
    for record in records:
        try:
            parsed.append(parse_advisory(record, pypi_name))
        except MalformedAdvisory:
            malformed += 1
    return parsed, malformed


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """Records that name each other (a PYSEC and a GHSA record sharing a CVE): one
    vulnerability, alerted about once."""

    records: tuple[Advisory, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id and alias, record ids first (sorted), then the rest (CVEs)."""
        own = sorted(r.id for r in self.records)
        others = sorted({a for r in self.records for a in r.aliases} - set(own))
        return (*own, *others)

    @property
    def key(self) -> str:
        """The smallest record id: what a dedup key and `package --json` name it by."""
        return min(r.id for r in self.records)

    @property
    def live(self) -> tuple[Advisory, ...]:
        """The records not withdrawn."""
        return tuple(r for r in self.records if not r.withdrawn)

    @property
    def withdrawn(self) -> bool:
        return not self.live

    @property
    def summary(self) -> str:
        # GHSA summaries are written for people; PYSEC ones are often the first line of `details`.
        ranked = sorted(self.records, key=lambda r: (not r.id.startswith("GHSA-"), r.id))
        return next((r.summary for r in ranked if r.summary), "")

    @property
    def severity(self) -> str | None:
        ranked = [r.severity for r in self.live or self.records if r.severity]
        return max(ranked, key=SEVERITIES.index) if ranked else None

    @property
    def spans(self) -> tuple[Span, ...]:
        """Affected ranges, from the record that states them most precisely (most ranges)."""
        return max((r.spans for r in self.live or self.records), key=len, default=())

    @property
    def fixed(self) -> tuple[str, ...]:
        return _sorted_versions({v for r in self.live for v in r.fixed})

    @property
    def published(self) -> str | None:
        dates = [r.published for r in self.records if r.published]
        return min(dates) if dates else None

    @property
    def withdrawn_at(self) -> str | None:
        """When the last of its records was withdrawn (OSV's timestamp); None while one is live."""
        dates = [r.withdrawn for r in self.records if r.withdrawn]
        return max(dates) if self.withdrawn and dates else None

    def affects(self, version: str | None) -> bool:
        return any(r.affects(version) for r in self.live)

    def fixed_for(self, version: str) -> str | None:
        """The lowest fixed version above `version` (what to upgrade to), or None."""
        parsed = _version(version)
        above = [v for v in self.fixed if parsed is None or ((p := _version(v)) and p > parsed)]
        return above[0] if above else None

    def in_range(self, specifier: SpecifierSet) -> tuple[bool, str | None]:
        """Whether a requirement's range admits affected versions, and the lowest fix of the
        affected ranges it meets. A range meets an affected range when it admits that range's
        first version, or its own lower bound (`>=`, `>`, `~=`, `==`) lies in it."""
        floors = [
            version
            for spec in specifier
            if spec.operator in (">=", ">", "~=", "==", "===")
            and (version := _version(spec.version.rstrip(".*"))) is not None
        ]
        met = [
            span
            for record in self.live
            for span in record.spans
            if specifier.contains(span.introduced or "0", prereleases=True)
            or any(span.covers(floor) for floor in floors)
        ]
        fixes = _sorted_versions({span.fixed for span in met if span.fixed})
        return bool(met), fixes[0] if fixes else None

    def material(self) -> str:
        """What the group says is affected and fixed (see `Advisory.material`)."""
        return hashlib.sha256(
            "".join(sorted(r.material() for r in self.records)).encode()
        ).hexdigest()[:16]

    def links(self) -> list[str]:
        """One page per id that has one: GitHub's advisory, OSV's record, the CVE."""
        return [
            template.format(vuln_id)
            for vuln_id in self.ids
            for prefix, template in _LINKS.items()
            if vuln_id.startswith(prefix)
        ]


def group(advisories: Iterable[Advisory]) -> list[Vulnerability]:
    """Records joined where their ids or aliases meet (transitively), in key order."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    records = list(advisories)
    for record in records:
        for other in record.ids:
            parent[root(other)] = root(record.id)
    groups: dict[str, list[Advisory]] = {}
    for record in records:
        groups.setdefault(root(record.id), []).append(record)
    vulnerabilities = [Vulnerability(tuple(sorted(g, key=lambda r: r.id))) for g in groups.values()]
    return sorted(vulnerabilities, key=lambda v: v.key)


def highest(severities: Iterable[str | None]) -> str | None:
    """The highest of some severities (None when none is rated)."""
    rated = [s for s in severities if s in SEVERITIES]
    return max(rated, key=SEVERITIES.index) if rated else None


@dataclass(frozen=True, slots=True)
class FollowedPackage:
    """A package some active subscription reaches, as the OSV poll needs it."""

    id: int
    slug: str
    title: str
    pypi_url: str | None
    latest: str | None


@dataclass(frozen=True, slots=True)
class Seen:
    """What was known of one record id at the previous check of a name: what it said, and
    the `modified` time of the copy read (None: not remembered)."""

    material: str
    withdrawn: bool
    modified: str | None


@dataclass(frozen=True, slots=True)
class News:
    """A vulnerability worth an alert: `new`, `updated` (what is affected or fixed moved) or
    `withdrawn` (every record of it withdrawn since it was announced)."""

    vulnerability: Vulnerability
    status: Literal["new", "updated", "withdrawn"]


def news(seen: Mapping[str, Seen] | None, current: Iterable[Advisory]) -> list[News]:
    """What is news among a package's current records, given what was `seen` of them at the
    previous check (`None`: never checked, a silent baseline). A `modified` move that changes
    nothing material is not news; a vulnerability first seen withdrawn is not either."""
    if seen is None:
        return []
    found: list[News] = []
    for vulnerability in group(current):
        before = {r.id: seen[r.id] for r in vulnerability.records if r.id in seen}
        if not before:
            if not vulnerability.withdrawn:
                found.append(News(vulnerability, "new"))
        elif vulnerability.withdrawn:
            if not all(known.withdrawn for known in before.values()):
                found.append(News(vulnerability, "withdrawn"))
        elif any(
            before[r.id].material != r.material() for r in vulnerability.records if r.id in before
        ):
            found.append(News(vulnerability, "updated"))
    return found


@dataclass(frozen=True, slots=True)
class AdvisoryView:
    """A vulnerability as `/package` and `package --json` show it, against the latest release."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: str | None
    fixed: tuple[str, ...]
    affects_latest: bool
    withdrawn: bool
    #: The fix to upgrade the latest release to (shown, not in the JSON shape).
    upgrade: str | None = None

    @classmethod
    def of(cls, vulnerability: Vulnerability, latest: str | None) -> AdvisoryView:
        return cls(
            id=vulnerability.key,
            aliases=tuple(i for i in vulnerability.ids if i != vulnerability.key),
            summary=vulnerability.summary,
            severity=vulnerability.severity,
            fixed=vulnerability.fixed,
            affects_latest=vulnerability.affects(latest),
            withdrawn=vulnerability.withdrawn,
            upgrade=vulnerability.fixed_for(latest) if latest else None,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "summary": self.summary,
            "severity": self.severity,
            "fixed": list(self.fixed),
            "affects_latest": self.affects_latest,
            "withdrawn": self.withdrawn,
        }


@dataclass(frozen=True, slots=True)
class PackageAdvisories:
    """What OSV says of a package when the bot follows advisories: its `views`, or None when
    OSV could not be reached."""

    views: tuple[AdvisoryView, ...] | None

    def as_json(self) -> list[dict[str, Any]] | None:
        return None if self.views is None else [view.as_json() for view in self.views]


def open_advisories_line(views: Sequence[AdvisoryView] | None) -> str:
    """What a package card says of its advisories: those affecting the latest release (count,
    highest severity, ids, fixed in), "none known", or "unknown" when OSV was not asked."""
    if views is None:
        return "unknown (OSV is off or unreachable)"
    affecting = [view for view in views if view.affects_latest]
    if not affecting:
        return f"none affect the latest release ({len(views)} known)" if views else "none known"
    worst = highest(view.severity for view in affecting)
    count = f"{len(affecting)} affect{'s' if len(affecting) == 1 else ''} the latest release"
    lines = [count + (f", highest {worst}" if worst else "")]
    for view in affecting[:5]:
        fix = f"fixed in {view.upgrade}" if view.upgrade else "no fixed release yet"
        lines.append(f"• {view.id} ({view.severity or 'not rated'}): {fix}")
    if len(affecting) > 5:
        lines.append(f"… and {len(affecting) - 5} more")
    return "\n".join(lines)
