"""The PyPI project name of a package, from its Django Packages `pypi_url`.

One function, so every source that asks PyPI (or OSV, which names PyPI projects the same way)
about a package derives the same name: the PEP 503 normalised form (lower case, runs of `-`,
`_` and `.` become one `-`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.core.records import normalise_pypi_url

_PROJECT_PREFIX = "https://pypi.org/project/"
_SEPARATORS = re.compile(r"[-_.]+")
_VALID_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


def normalise_project_name(name: str) -> str:
    """PEP 503 normal form: `Django_REST.framework` → `django-rest-framework`."""
    return _SEPARATORS.sub("-", name.strip()).lower()


@lru_cache(maxsize=1 << 15)  # every watched package's link, pass after pass
def pypi_project_name(pypi_url: str | None) -> str | None:
    """The normalised PyPI project name a `pypi_url` points at, or `None` (no link, or not a name).

    Any legacy form Django Packages stores (`pypi.python.org/pypi/X`, `pypi.org/project/X/`,
    `pypi.org/pypi/X/json`, with or without scheme) gives the same name; a link that does not
    name a valid project (a search page, a bare host, another site) gives `None`.
    """
    canonical = normalise_pypi_url(pypi_url)
    if canonical is None or not canonical.startswith(_PROJECT_PREFIX):
        return None
    raw = canonical.removeprefix(_PROJECT_PREFIX).strip("/")
    if "?" in raw or "#" in raw:
        raw = re.split(r"[?#]", raw, maxsplit=1)[0]
    name = normalise_project_name(raw)
    return name if _VALID_NAME.match(name) else None
