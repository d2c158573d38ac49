"""Reading a response body without trusting its size or its JSON.

A compressed body is inflated here, chunk by chunk, and never past `MAX_BODY_BYTES`: a small
gzip body can stand for gigabytes (httpx and aiohttp would inflate each network chunk whole).
The JSON is read with orjson, falling back to the standard library only for what orjson
refuses and JSON allows; anything neither reads, however deep it nests, is `MalformedBody`.

Every upstream client uses these bounds: Django Packages and OSV (httpx, `read_body`), PyPI
and endoflife.date (aiohttp, `inflate` over the raw chunks of a session that does not
decompress).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterable
from typing import Any

import httpx
import orjson

from bot.core.printable import printable

#: The most a response may decode to: a 500-package catalog page is about 0.5 MB and the
#: whole catalog about 6 MB, so this leaves room for growth and stops a decompression bomb.
MAX_BODY_BYTES = 16 * 1024 * 1024
_OVER_LIMIT = f"a body over {MAX_BODY_BYTES // (1024 * 1024)} MiB"
#: What the client accepts, so what `read_body` must be able to decode.
ACCEPT_ENCODING = "gzip, deflate"

#: Inflated at most this much at a time, so the body grows by small steps up to the cap.
_SLICE = 256 * 1024
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class MalformedBody(Exception):
    """The body is not JSON we can read: too large, badly encoded or not JSON."""


async def read_body(response: httpx.Response) -> bytes | bytearray:
    """The body of a streamed httpx `response`, decoded, stopping as soon as it passes
    `MAX_BODY_BYTES`."""
    encoding = response.headers.get("content-encoding")
    try:
        loaded = response.content  # a transport that read the body already (a mock's)
    except httpx.ResponseNotRead:
        return await inflate(response.aiter_raw(), encoding)
    _refuse_unasked(encoding)
    if len(loaded) > MAX_BODY_BYTES:
        raise MalformedBody(_OVER_LIMIT)
    return loaded


async def inflate(chunks: AsyncIterable[bytes], encoding: str | None) -> bytearray:
    """Raw body `chunks` in Content-Encoding `encoding`, decoded by steps of at most 256 KiB,
    stopping as soon as the result passes `MAX_BODY_BYTES`."""
    normal = _refuse_unasked(encoding)
    inflater = zlib.decompressobj(_WBITS[normal]) if normal else None
    body = bytearray()
    async for chunk in chunks:
        pending = chunk
        while pending:
            if inflater is None:
                body += pending
                pending = b""
            else:
                try:
                    room = MAX_BODY_BYTES + 1 - len(body)
                    body += inflater.decompress(pending, min(_SLICE, room))
                except zlib.error as exc:
                    raise MalformedBody(f"a body that does not inflate ({exc})") from exc
                pending = inflater.unconsumed_tail
            if len(body) > MAX_BODY_BYTES:
                raise MalformedBody(_OVER_LIMIT)
    return body  # not copied into `bytes`: both JSON readers take a bytearray


def _refuse_unasked(encoding: str | None) -> str:
    """`encoding` normalised ("" for none); `MalformedBody` for one not in `ACCEPT_ENCODING`."""
    normal = (encoding or "").strip().lower()
    if normal in ("", "identity"):
        return ""
    if normal not in _WBITS:
        raise MalformedBody(f"a body in an encoding not asked for ({printable(normal[:20])})")
    return normal


def decode_json(content: bytes | bytearray) -> Any:
    """orjson (a catalog page decodes several times faster), or the standard library for what
    orjson refuses and JSON allows (a lone surrogate escape, a UTF-16 body): one odd record
    must fail its own validation, not spoil its page. (orjson reads an integer beyond 64 bits
    as a float, which validation refuses as a count or an id all the same.) JSON nested deeper
    than orjson's limit exhausts the standard library's recursion: malformed all the same."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise MalformedBody("malformed JSON") from exc
