"""Wire-level helpers shared by the fake's routes: Discord's JSON answers, errors and bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

UNKNOWN_CHANNEL = (404, 10003, "Unknown Channel")
UNKNOWN_MESSAGE = (404, 10008, "Unknown Message")
UNKNOWN_WEBHOOK = (404, 10015, "Unknown Webhook")
UNKNOWN_INTERACTION = (404, 10062, "Unknown interaction")
MISSING_ACCESS = (403, 50001, "Missing Access")
MISSING_PERMISSIONS = (403, 50013, "Missing Permissions")


class DiscordError(Exception):
    """An error answer in Discord's shape: `{"message": ..., "code": ...}`."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code, **extra}


@dataclass
class Upload:
    """One `files[n]` part of a multipart request."""

    filename: str
    data: bytes
    content_type: str


#: The parsed JSON body (or multipart payload_json), whatever shape the route expects.
BODY: web.RequestKey[Any] = web.RequestKey("body", object)
UPLOADS = web.RequestKey("uploads", dict)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with `Content-Type: application/json` exactly: discord.py reads anything else as text
    (aiohttp's `json_response` appends a charset)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
    )


async def read_body(request: web.Request) -> tuple[Any, dict[int, Upload]]:
    """The JSON body, from plain JSON or from multipart `payload_json` + `files[n]` parts."""
    if request.content_type == "multipart/form-data":
        form = await request.post()
        uploads = {
            int(name.removeprefix("files[").removesuffix("]")): Upload(
                part.filename, part.file.read(), part.content_type
            )
            for name, part in form.items()
            if name.startswith("files[") and isinstance(part, web.FileField)
        }
        return json.loads(str(form.get("payload_json") or "{}")), uploads
    if request.body_exists:
        return await request.json(), {}
    return None, {}


def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (read once by the middleware); `{}` when there is none."""
    data = request[BODY]
    return data if isinstance(data, dict) else {}


def request_uploads(request: web.Request) -> dict[int, Upload]:
    """The request's uploaded files by their `files[n]` index."""
    return request[UPLOADS]
