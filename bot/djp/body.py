"""Reading a response body without trusting its size or its JSON.

A compressed body is inflated here, chunk by chunk, and never past `MAX_BODY_BYTES`: a small
gzip body can stand for gigabytes (httpx would inflate each network chunk whole). The JSON is
read with orjson, falling back to the standard library only for what orjson refuses and JSON
allows; anything neither reads, however deep it nests, is `MalformedBody`.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import httpx
import orjson

#: The most a response may decode to: a 500-package catalog page is about 0.5 MB and the
#: whole catalog about 6 MB, so this leaves room for growth and stops a decompression bomb.
MAX_BODY_BYTES = 16 * 1024 * 1024
#: What the client accepts, so what `read_body` must be able to decode.
ACCEPT_ENCODING = "gzip, deflate"

#: Inflated at most this much at a time, so the body grows by small steps up to the cap.
_SLICE = 256 * 1024
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class MalformedBody(Exception):
    """The body is not JSON we can read: too large, badly encoded or not JSON."""


async def read_body(response: httpx.Response, limit: int = MAX_BODY_BYTES) -> bytes | bytearray:
    """The body of a streamed `response`, decoded, stopping as soon as it passes `limit`."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in (*_WBITS, "identity", ""):
        raise MalformedBody(f"a body in an encoding not asked for ({encoding[:20]})")
    inflate = zlib.decompressobj(_WBITS[encoding]) if encoding in _WBITS else None
    try:
        loaded = response.content  # a transport that read the body already (a mock's)
    except httpx.ResponseNotRead:
        pass
    else:
        if len(loaded) > limit:
            raise MalformedBody(f"a body over {limit // (1024 * 1024)} MiB")
        return loaded
    body = bytearray()
    async for chunk in response.aiter_raw():
        pending = chunk
        while pending:
            if inflate is None:
                body += pending
                pending = b""
            else:
                try:
                    body += inflate.decompress(pending, min(_SLICE, limit + 1 - len(body)))
                except zlib.error as exc:
                    raise MalformedBody(f"a body that does not inflate ({exc})") from exc
                pending = inflate.unconsumed_tail
            if len(body) > limit:
                raise MalformedBody(f"a body over {limit // (1024 * 1024)} MiB")
    return body  # not copied into `bytes`: both JSON readers take a bytearray


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
