"""Where a client may follow a redirect: within the configured API's origin only.

A redirect is an upstream's instruction to send the next request elsewhere. Followed anywhere,
a wrong or compromised `DJP_API_URL` (or `OSV_API_URL`, `PYPI_URL`, `ENDOFLIFE_URL`: every
upstream client follows redirects through `next_hop`) could point the bot at another service
on its network and have that service's JSON stored and shown; followed from https to http, it
would give up the transport's protection. The same host may still move a request from http to
https.
"""

from __future__ import annotations

import httpx

from bot.core.printable import printable

#: Django Packages redirects once at most (APPEND_SLASH), PyPI once (a name to its
#: normalised form); more is a loop or a detour.
MAX_REDIRECTS = 3


class OffOrigin(Exception):
    """A redirect that leaves the API's origin (or goes down to http): not followed."""


def origin(url: httpx.URL) -> str:
    """`scheme://host[:port]`, for messages."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def may_follow(base: httpx.URL, target: httpx.URL) -> bool:
    """Whether a redirect from the API at `base` to `target` stays where it may."""
    if target.host != base.host:
        return False
    if target.scheme == base.scheme:
        return target.port == base.port
    return base.scheme == "http" and target.scheme == "https"  # an upgrade, never a downgrade


def next_hop(base: httpx.URL, source: httpx.URL, target: httpx.URL | str) -> httpx.URL:
    """Where a redirect from `source` to `target` (a `Location`, maybe relative) leads, for
    an API at `base`; `OffOrigin` (saying where it led, printable) if it may not be followed."""
    joined = source.join(target)
    if not may_follow(base, joined):
        raise OffOrigin(
            f"redirected {printable(source.path)} to {printable(origin(joined))}, "
            f"outside {origin(base)}: not followed"
        )
    return joined
