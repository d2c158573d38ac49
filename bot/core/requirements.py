"""A team's requirements, from the file it keeps them in: `requirements.txt`, `pyproject.toml`
(`[project] dependencies`, `optional-dependencies` and `[dependency-groups]`) or `uv.lock`.

Each requirement is read by `packaging` (PEP 508); names are PEP 503 normalised. A requirement
pins a version when its only specifier is `==X` (not a wildcard) or `===X`; a lock file locks
every package it lists. Lines pip reads but that name no package from an index (options such
as `-r other.txt` or `--hash`, editable paths, bare URLs) are skipped and counted, never
guessed at. A file that cannot be read at all raises `RequirementsError` with one sentence.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from packaging.requirements import InvalidRequirement, Requirement

from bot.core.pypi_names import normalise_project_name

#: Larger files are refused unread: no real requirements file comes near it.
MAX_BYTES = 512 * 1024
Format = Literal["requirements", "pyproject", "uv.lock"]
_COMMENT = re.compile(r"(^|\s)#.*$")


class RequirementsError(ValueError):
    """A file that cannot be read as requirements; `str(error)` is one sentence."""


@dataclass(frozen=True, slots=True)
class Pinned:
    """One requirement: its normalised `name`, the `specifier` as written ("" for none), and the
    version it pins or a lock locks (None for a range)."""

    name: str
    specifier: str
    version: str | None


class Pinning(Protocol):
    """A requirement as read from a file (`Pinned`) or as stored (`storage.models.Pin`)."""

    @property
    def specifier(self) -> str: ...

    @property
    def version(self) -> str | None: ...


def pin_text(requirement: Pinning, *, markdown: bool = True) -> str:
    """ "3.14.0" for a pin, "`>=4.2,<5`" for a range (without backticks for a terminal), "any
    version" for a bare name."""
    if requirement.version:
        return requirement.version
    if not requirement.specifier:
        return "any version"
    return f"`{requirement.specifier}`" if markdown else requirement.specifier


@dataclass(frozen=True, slots=True)
class Requirements:
    """What a file asks for, one entry per name (the first mention wins), and how many
    lines were skipped as naming no package (options, paths, URLs)."""

    format: Format
    entries: tuple[Pinned, ...]
    skipped: int = 0


def format_of(filename: str) -> Format:
    """The format a file name says; raises `RequirementsError` for any other. Any `.txt` or
    `.in` is a requirements file, as pip takes any name: projects split theirs into
    `requirements/base.txt`, `local.txt`, `production.txt`."""
    base = filename.rsplit("/", 1)[-1].lower()
    if base == "pyproject.toml":
        return "pyproject"
    if base == "uv.lock":
        return "uv.lock"
    if base.endswith((".txt", ".in")):
        return "requirements"
    raise RequirementsError(
        f"{filename!r} is not a file I can read: use a requirements file (.txt or .in), a "
        "pyproject.toml or a uv.lock."
    )


def read_requirements(filename: str, content: bytes) -> Requirements:
    """The requirements in a file, by its name's format."""
    kind = format_of(filename)
    if len(content) > MAX_BYTES:
        raise RequirementsError(
            f"{filename} is {len(content) // 1024} KiB: a requirements file of at most "
            f"{MAX_BYTES // 1024} KiB is read."
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RequirementsError(f"{filename} is not UTF-8 text.") from None
    if kind == "requirements":
        return _from_lines(text)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RequirementsError(f"{filename} is not valid TOML ({exc}).") from None
    if kind == "pyproject":
        return _from_pyproject(filename, document)
    return _from_lock(filename, document)


def _pinned(requirement: Requirement) -> Pinned:
    specifiers = list(requirement.specifier)
    version = None
    if (
        len(specifiers) == 1
        and specifiers[0].operator in ("==", "===")
        and "*" not in str(specifiers[0].version)
    ):
        version = specifiers[0].version
    return Pinned(normalise_project_name(requirement.name), str(requirement.specifier), version)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with comments removed and `\\` continuations joined, numbered from 1."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _COMMENT.sub("", raw).rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield start, (pending + line).strip()
        pending = ""
    if pending.strip():
        yield start, pending.strip()


def _from_lines(text: str) -> Requirements:
    entries: list[Pinned] = []
    skipped = 0
    for number, line in _logical_lines(text):
        if not line:
            continue
        if line.startswith(("-", ".", "/")) or "://" in line.split(" @ ")[0]:
            skipped += 1  # an option, a local path or a bare URL: no package name to follow
            continue
        requirement_text = line.split(" --", 1)[0].split(";", 1)[0].strip()  # per-line options
        try:
            entries.append(_pinned(Requirement(requirement_text)))
        except InvalidRequirement:
            raise RequirementsError(f"Line {number} is not a requirement: {line[:60]!r}.") from None
    return Requirements("requirements", _unique(entries), skipped)


def _strings(value: Any, where: str, filename: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RequirementsError(f"{filename}: {where} is not a list of requirements.")
    return value


def _from_pyproject(filename: str, document: Mapping[str, Any]) -> Requirements:
    project = document.get("project")
    if not isinstance(project, dict):
        raise RequirementsError(f"{filename} has no [project] table.")
    texts = _strings(project.get("dependencies", []), "[project] dependencies", filename)
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise RequirementsError(f"{filename}: [project.optional-dependencies] is not a table.")
    for extra, listed in optional.items():
        texts += _strings(listed, f"optional dependencies {extra!r}", filename)
    groups = document.get("dependency-groups", {})
    for listed in groups.values() if isinstance(groups, dict) else ():
        # `{include-group = "..."}` entries name another group, read in its own right.
        if isinstance(listed, list):
            texts += [item for item in listed if isinstance(item, str)]
    entries = []
    for text in texts:
        try:
            entries.append(_pinned(Requirement(text)))
        except InvalidRequirement:
            raise RequirementsError(f"{filename}: {text[:60]!r} is not a requirement.") from None
    return Requirements("pyproject", _unique(entries))


def _from_lock(filename: str, document: Mapping[str, Any]) -> Requirements:
    packages = document.get("package")
    if not isinstance(packages, list):
        raise RequirementsError(f"{filename} lists no [[package]] entries.")
    entries = []
    for package in packages:
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            raise RequirementsError(f"{filename} has a [[package]] entry without a name.")
        source = package.get("source", {})
        if isinstance(source, dict) and ({"editable", "virtual"} & source.keys()):
            continue  # the project itself (or a workspace member), not a dependency
        version = package.get("version")
        locked = version if isinstance(version, str) else None
        specifier = f"=={locked}" if locked else ""
        entries.append(Pinned(normalise_project_name(package["name"]), specifier, locked))
    return Requirements("uv.lock", _unique(entries))


def _unique(entries: Iterable[Pinned]) -> tuple[Pinned, ...]:
    found: dict[str, Pinned] = {}
    for entry in entries:
        found.setdefault(entry.name, entry)
    return tuple(found.values())
