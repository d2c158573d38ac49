"""Whether a database is at the newest migration, answered without importing Alembic.

Alembic and the migration scripts cost about a tenth of a second to import; every command
opens the database, and almost always finds it current. The head revision is read from the
scripts' `revision = "…"` / `down_revision = "…"` lines, and the stored one from the
`alembic_version` table; Alembic runs only when they differ (or the scripts cannot be read
that simply, e.g. a branch: then Alembic decides).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, inspect, text

VERSIONS_DIR = Path(__file__).resolve().parent / "migrations" / "versions"
_REVISION = re.compile(r'^revision = "(\w+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision = (?:None|"(\w+)")$', re.MULTILINE)


@cache
def head_revision(versions: Path = VERSIONS_DIR) -> str | None:
    """The one revision no script revises, or None when that is not plain to see."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in versions.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        if down.group(1) is not None:
            revised.add(down.group(1))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def stored_revisions(connection: Connection) -> list[str]:
    """The revisions recorded in the database ([] when it was never migrated)."""
    if not inspect(connection).has_table("alembic_version"):
        return []
    return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def is_current(connection: Connection) -> bool:
    """True when the database is recorded at the head revision, and only at it."""
    head = head_revision()
    return head is not None and stored_revisions(connection) == [head]
