"""What PyPI says about a project, read from its JSON API answer into typed records.

Only what the bot uses is read (the latest release's version, upload time, `requires_python`,
Django classifiers and yank; and the release set with each release's upload time and yank),
and every unknown key is ignored. A payload that lacks or garbles one of those is an
`InvalidRecord`: the whole answer is then unknown, never half-used.

`releases` is deprecated upstream and may disappear: `PypiProject.releases` is then `None`
(the release set is unknown), and only the latest release is known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from packaging.version import InvalidVersion, Version

from bot.core.records import parse_timestamp
from bot.errors import InvalidRecord

_DJANGO_CLASSIFIER = re.compile(r"^Framework :: Django :: (\d+\.\d+)$")


@dataclass(frozen=True, slots=True)
class PypiRelease:
    """One version of a project: its first upload, and whether every file of it is yanked."""

    version: str
    uploaded: datetime | None
    yanked: bool = False
    yanked_reason: str | None = None


@dataclass(frozen=True, slots=True)
class PypiProject:
    """A project as PyPI describes it at its latest release."""

    name: str
    version: str
    released: datetime | None
    requires_python: str | None
    #: The `Framework :: Django :: X.Y` versions the latest release declares, ascending.
    django_versions: tuple[str, ...]
    yanked: bool
    yanked_reason: str | None
    #: Every release by version, or None when PyPI did not send the release set.
    releases: Mapping[str, PypiRelease] | None = None
    #: PyPI's `last_serial`: the project's newest journal entry this answer reflects (None:
    #: not sent), so an answer older than a change the journal names can be told.
    serial: int | None = None

    @property
    def final(self) -> bool:
        """Whether the latest release is a final one (pre-releases never count as support)."""
        parsed = parse_version(self.version)
        return parsed is not None and not parsed.is_prerelease

    def as_json(self) -> dict[str, Any]:
        """The `pypi` object of `package --json`."""
        return {
            "name": self.name,
            "version": self.version,
            "released": self.released.isoformat() if self.released else None,
            "requires_python": self.requires_python,
            "django_versions": list(self.django_versions),
            "yanked": self.yanked,
            "yanked_reason": self.yanked_reason,
        }


@lru_cache(maxsize=8192)
def parse_version(text: str) -> Version | None:
    """A PEP 440 version, or None for text that is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def django_version_order(version: str) -> tuple[int, ...]:
    """The sort key of an `X.Y` Django version: 4.2 before 4.10 before 5.0."""
    return tuple(int(part) for part in version.split("."))


def django_versions(classifiers: object) -> tuple[str, ...]:
    """The `Framework :: Django :: X.Y` versions among classifiers, ascending."""
    if not isinstance(classifiers, list):
        return ()
    found = {m[1] for c in classifiers if isinstance(c, str) and (m := _DJANGO_CLASSIFIER.match(c))}
    return tuple(sorted(found, key=django_version_order))


def _text(value: object, field: str, name: str, *, optional: bool = False) -> str | None:
    if value is None or (optional and value == ""):
        if optional:
            return None
        raise InvalidRecord("pypi", name, field, "missing")
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord("pypi", name, field, f"expected text, got {value!r:.40}")
    return value.strip()


def _files_release(version: str, files: object, name: str) -> PypiRelease:
    """A release from its file list: the earliest upload; yanked when every file is."""
    if not isinstance(files, list):
        raise InvalidRecord("pypi", name, f"releases.{version}", "expected a list of files")
    uploads: list[datetime] = []
    yanked = bool(files)
    reason: str | None = None
    for file in files:
        if not isinstance(file, dict):
            raise InvalidRecord("pypi", name, f"releases.{version}", "expected file objects")
        try:
            uploaded = parse_timestamp(file.get("upload_time_iso_8601") or file.get("upload_time"))
        except ValueError as exc:
            raise InvalidRecord("pypi", name, f"releases.{version}", str(exc)) from exc
        if uploaded is not None:
            uploads.append(uploaded)
        yanked = yanked and file.get("yanked") is True
        reason = reason or _text(file.get("yanked_reason"), "yanked_reason", name, optional=True)
    return PypiRelease(version, min(uploads, default=None), yanked, reason if yanked else None)


def parse_project(payload: Any) -> PypiProject:
    """A `GET /pypi/<project>/json` answer as a `PypiProject`; `InvalidRecord` when unusable."""
    if not isinstance(payload, dict) or not isinstance(payload.get("info"), dict):
        raise InvalidRecord("pypi", "?", "info", "expected an object with an info object")
    info = payload["info"]
    name = _text(info.get("name"), "info.name", "?") or "?"
    version = _text(info.get("version"), "info.version", name) or "?"
    raw_releases = payload.get("releases")
    releases: dict[str, PypiRelease] | None = None
    if raw_releases is not None:
        if not isinstance(raw_releases, dict):
            raise InvalidRecord("pypi", name, "releases", "expected an object")
        releases = {
            key: _files_release(key, files, name)
            for key, files in raw_releases.items()
            if isinstance(key, str) and key.strip()
        }
    latest_files = payload.get("urls")
    latest = _files_release(version, latest_files if latest_files is not None else [], name)
    released = latest.uploaded or (
        releases[version].uploaded if releases and version in releases else None
    )
    return PypiProject(
        name=name,
        version=version,
        released=released,
        requires_python=_text(
            info.get("requires_python"), "info.requires_python", name, optional=True
        ),
        django_versions=django_versions(info.get("classifiers")),
        yanked=info.get("yanked") is True,
        yanked_reason=_text(info.get("yanked_reason"), "info.yanked_reason", name, optional=True),
        releases=releases,
        serial=_serial(payload.get("last_serial")),
    )


def _serial(value: object) -> int | None:
    """A journal serial, or None for anything else (it only tells stale answers apart)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def project_to_json(project: PypiProject) -> dict[str, Any]:
    """A project as stored: `as_json` plus the release set (`[uploaded, yanked, reason]`)
    and the journal serial."""
    stored = project.as_json() | {"serial": project.serial}
    if project.releases is not None:
        stored["releases"] = {
            r.version: [r.uploaded.isoformat() if r.uploaded else None, r.yanked, r.yanked_reason]
            for r in project.releases.values()
        }
    return stored


def project_from_json(stored: Mapping[str, Any]) -> PypiProject:
    """The project `project_to_json` stored."""
    releases = stored.get("releases")
    return PypiProject(
        name=stored["name"],
        version=stored["version"],
        released=parse_timestamp(stored.get("released")),
        requires_python=stored.get("requires_python"),
        django_versions=tuple(stored.get("django_versions") or ()),
        yanked=bool(stored.get("yanked")),
        yanked_reason=stored.get("yanked_reason"),
        releases=None
        if releases is None
        else {
            version: PypiRelease(version, parse_timestamp(uploaded), bool(yanked), reason)
            for version, (uploaded, yanked, reason) in releases.items()
        },
        serial=stored.get("serial"),
    )


#: A package's readiness for one Django version (the readiness board).
Readiness = Literal["ready", "no", "unknown"]
READINESS_ORDER: tuple[Readiness, ...] = ("ready", "no", "unknown")


def readiness(project: PypiProject | None, django: str) -> Readiness:
    """`ready` when the latest final release declares `django`, `no` when it declares other
    Django versions only, `unknown` without declared versions, final release or PyPI data."""
    if project is None or not project.final or not project.django_versions:
        return "unknown"
    return "ready" if django in project.django_versions else "no"
