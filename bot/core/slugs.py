"""What a package or grid key may be before it becomes part of a URL or a query.

Django Packages names packages and grids by id (digits) or by slug (Django's `SlugField`:
ASCII letters, digits, `-` and `_`). Anything else cannot name one, and sent as a URL path it
would reach other routes (`.` and `..` walk up to the list endpoints), so it is refused before
any request or lookup, with one sentence the user can act on. A slug received from upstream
is held to the same pattern (`bot.core.records`): it becomes URLs and markdown links as well.
"""

from __future__ import annotations

import re
from typing import Literal

from bot.errors import SentinelError

#: Generous: Django's default for a slug is 50 characters; no real slug comes near 100.
MAX_SLUG_LENGTH = 100
#: Ids are positive 32-bit integers upstream (and in our tables).
MAX_ID = 2**31 - 1
#: What a slug may be, typed or received: upstream slugs become URLs and markdown links too.
SLUG_PATTERN = rf"^[A-Za-z0-9_-]{{1,{MAX_SLUG_LENGTH}}}$"
_SLUG = re.compile(SLUG_PATTERN)

Kind = Literal["package", "grid"]


class InvalidSlug(SentinelError):
    """Text that cannot name a package or grid on Django Packages."""


def checked_key(key: int | str, kind: Kind) -> int | str:
    """An id (as an int) or a slug (stripped) that may name a `kind`; raises `InvalidSlug`."""
    text = str(key).strip()
    if not _SLUG.fullmatch(text):
        shown = text if len(text) <= 40 else text[:39] + "…"
        raise InvalidSlug(
            f"“{shown}” is not a {kind} slug: slugs use only letters, digits, - and _ "
            f"(at most {MAX_SLUG_LENGTH} characters), e.g. "
            f"{'django-flatblocks' if kind == 'package' else 'flatpages'}."
        )
    if not text.isdigit():
        return text
    if not 0 < int(text) <= MAX_ID:
        raise InvalidSlug(f"There is no {kind} with the id {text}: ids run from 1 to {MAX_ID}.")
    return int(text)
