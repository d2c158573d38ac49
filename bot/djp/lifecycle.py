"""How every upstream client is closed: `async with client:`, or `await client.aclose()`.

A client releases its HTTP pool when closed, but only a pool it created: one passed in is the
caller's, who may share it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

import httpx


class UpstreamClient(ABC):
    """A client used as an async context manager, closed by `aclose()` on the way out."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release what the client holds."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class HttpxUpstream(UpstreamClient):
    """A client over an `httpx.AsyncClient`; `owns_http` when the client created it."""

    def __init__(self, http: httpx.AsyncClient, *, owns_http: bool) -> None:
        self._http = http
        self._owns_http = owns_http

    async def aclose(self) -> None:
        """Close the HTTP pool if this client created it; an injected one is the caller's."""
        if self._owns_http:
            await self._http.aclose()
