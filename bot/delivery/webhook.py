"""Posting alerts through a Discord channel webhook: no bot and no gateway, plain HTTPS.

A webhook URL is a secret (whoever holds it can post in the channel): errors and logs name the
webhook by its id, never by its URL.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bot.delivery.senders import (
    DeliveryFailed,
    Destination,
    DestinationGone,
    Message,
    MessageGone,
    MessageRejected,
)
from bot.errors import SentinelError

#: A webhook URL's path (and optional thread), after its origin.
_WEBHOOK_PATH = re.compile(
    r"/api(?:/v\d+)?/webhooks/(?P<id>\d+)/[\w-]+(?:\?thread_id=(?P<thread>\d+))?"
)
#: Discord's own https hosts: the only origins a webhook URL may have in production.
_DISCORD_ORIGIN = re.compile(r"https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com")
#: The "[Errno -2] " an operating system's network error starts with.
_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")
#: Answers saying a webhook's message cannot be read or changed, now or later.
_MESSAGE_OUT_OF_REACH = frozenset(
    {
        httpx.codes.BAD_REQUEST,
        httpx.codes.UNAUTHORIZED,
        httpx.codes.FORBIDDEN,
        httpx.codes.NOT_FOUND,
    }
)
#: The longest rate-limit wait honoured in place; longer ones become a retry with backoff.
MAX_RATE_LIMIT_WAIT = 5.0
DEFAULT_RETRY_AFTER = 1.0

Sleep = Callable[[float], Awaitable[None]]


class InvalidWebhookUrl(SentinelError):
    """The text given is not a Discord webhook URL."""


def _match(url: str, test_host: str | None) -> re.Match[str] | None:
    """The webhook path of `url` if its origin is Discord's https one, or on `test_host` (the
    WEBHOOK_TEST_HOST setting of a test run against a local Discord: `host` for any port,
    `host:port` for one)."""
    url = url.strip()
    origin = _DISCORD_ORIGIN.match(url)
    if origin:
        return _WEBHOOK_PATH.fullmatch(url, origin.end())
    scheme, separator, rest = url.partition("://")
    netloc = rest.partition("/")[0]
    host, colon, port = netloc.partition(":")
    on_test_host = netloc == test_host or (host == test_host and colon and port.isdigit())
    if test_host and scheme in ("http", "https") and separator and on_test_host:
        return _WEBHOOK_PATH.fullmatch(url, len(scheme) + len(separator) + len(netloc))
    return None


def webhook_id(url: str, *, test_host: str | None = None) -> int:
    """The id in a Discord webhook URL; raises `InvalidWebhookUrl` for anything else."""
    match = _match(url, test_host)
    if match is None:
        raise InvalidWebhookUrl(
            "That is not a Discord webhook URL: copy it from Channel Settings → Integrations → "
            "Webhooks (https://discord.com/api/webhooks/ID/TOKEN, optionally ?thread_id=ID)."
        )
    return int(match["id"])


def stored_webhook(url: str) -> tuple[int, int | None]:
    """The webhook id and thread (`?thread_id=`) of a stored URL, to list it whatever its host
    (the sender refuses to post to a URL that is not Discord's); (0, None) for no webhook."""
    match = _WEBHOOK_PATH.search(url)
    if match is None:
        return 0, None
    return int(match["id"]), int(match["thread"]) if match["thread"] else None


class WebhookSender:
    """Executes the destination's webhook with `?wait=true`, so Discord returns the message
    (whose id is recorded on the alerts).

    Each webhook is its own rate-limit bucket: when Discord's headers say it is used up
    (`X-RateLimit-Remaining: 0`), the next post to it waits `X-RateLimit-Reset-After`. Webhooks
    take no nonce, so a message's `nonce` is not sent. A webhook can read and change the
    messages it posted (`fetch`, `edit`), in its thread when its URL names one.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        sleep: Sleep = asyncio.sleep,
        max_wait: float = MAX_RATE_LIMIT_WAIT,
        test_host: str | None = None,
    ) -> None:
        self.http = http
        self.test_host = test_host
        self.sleep = sleep
        self.max_wait = max_wait
        #: Webhook id → monotonic time its bucket refills, while it is used up.
        self._refill: dict[int, float] = {}

    async def send(self, destination: Destination, message: Message) -> int:
        url = destination.webhook_url or ""
        try:
            hook = webhook_id(url, test_host=self.test_host)
        except InvalidWebhookUrl as exc:
            raise DestinationGone(f"{exc} Subscribe again with a valid URL.") from None
        message = {key: value for key, value in message.items() if key != "nonce"}
        response = await self._post(hook, url, message)
        if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
            wait = _retry_after(response)
            if wait > self.max_wait:
                raise DeliveryFailed(f"Discord rate-limits webhook {hook} for {wait:.0f} s.")
            await self.sleep(wait)
            response = await self._post(hook, url, message)
        if response.status_code == httpx.codes.BAD_REQUEST:
            detail = f"400 {_discord_message(response)}".strip()
            raise MessageRejected(f"Discord refused the message for webhook {hook} ({detail}).")
        return int(_answer(hook, response)["id"])

    async def fetch(self, destination: Destination, message_id: int) -> Message:
        hook, target = self._message_url(destination, message_id)
        return _changed(hook, message_id, await self._request("GET", hook, target))

    async def edit(self, destination: Destination, message_id: int, changes: Message) -> None:
        hook, target = self._message_url(destination, message_id)
        _changed(hook, message_id, await self._request("PATCH", hook, target, changes))

    def _message_url(self, destination: Destination, message_id: int) -> tuple[int, httpx.URL]:
        """The webhook's id, and the URL of one of its messages (in its thread, if any)."""
        url = (destination.webhook_url or "").strip()
        try:
            hook = webhook_id(url, test_host=self.test_host)
        except InvalidWebhookUrl as exc:
            raise MessageGone(str(exc)) from None
        base = httpx.URL(url)  # keeps ?thread_id=, which Discord needs for a thread's message
        return hook, base.copy_with(path=f"{base.path}/messages/{message_id}")

    async def _post(self, hook: int, url: str, message: Message) -> httpx.Response:
        params = {"wait": "true"}
        if message.get("components"):  # link buttons, which a webhook must ask to send
            params["with_components"] = "true"
        target = httpx.URL(url.strip()).copy_merge_params(params)  # keeps ?thread_id=
        return await self._request("POST", hook, target, message)

    async def _request(
        self, method: str, hook: int, target: httpx.URL, body: Message | None = None
    ) -> httpx.Response:
        """One request to the webhook, after its bucket refills if it was used up."""
        refill = self._refill.pop(hook, 0.0) - time.monotonic()
        if refill > 0:
            await self.sleep(refill)
        try:
            response = await self.http.request(method, target, json=body)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{_unreachable('post through', hook, exc)}.") from exc
        if response.headers.get("X-RateLimit-Remaining") == "0":
            self._refill[hook] = time.monotonic() + _reset_after(response)
        return response


async def resolve_webhook(
    http: httpx.AsyncClient, url: str, *, test_host: str | None = None
) -> Destination:
    """Ask Discord where a webhook posts, for a subscription made from its URL.

    Raises `InvalidWebhookUrl` (not a webhook URL, or not a server channel's),
    `DestinationGone` (deleted or refused) or `DeliveryFailed` (Discord unreachable).
    """
    hook = webhook_id(url, test_host=test_host)
    try:
        response = await http.get(url.strip())
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{_unreachable('check', hook, exc)}; try again later.") from exc
    webhook = _answer(hook, response)
    if not webhook.get("guild_id") or not webhook.get("channel_id"):
        raise InvalidWebhookUrl(f"Webhook {hook} does not post to a server channel.")
    return Destination(int(webhook["guild_id"]), int(webhook["channel_id"]), url.strip())


def _unreachable(doing: str, hook: int, failure: httpx.HTTPError) -> str:
    """ "Could not reach Discord to check webhook 123 (name or service not known)": the
    failure in words, without the exception's class or errno."""
    if isinstance(failure, httpx.TimeoutException):
        reason = "timed out"
    else:
        said = _ERRNO.sub("", str(failure)).strip().rstrip(".")
        reason = said[:1].lower() + said[1:] if said else "network error"
    return f"Could not reach Discord to {doing} webhook {hook} ({reason})"


def _answer(hook: int, response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a successful answer; errors become `DestinationGone`/`DeliveryFailed`."""
    status = response.status_code
    detail = f"{status} {_discord_message(response)}".strip()
    if status in (httpx.codes.UNAUTHORIZED, httpx.codes.NOT_FOUND):
        raise DestinationGone(
            f"Webhook {hook} is gone ({detail}): it or its channel was deleted — "
            "create a new webhook and subscribe with its URL."
        )
    if status == httpx.codes.FORBIDDEN:
        raise DestinationGone(
            f"Discord refused webhook {hook} ({detail}) — "
            "check the channel's permissions, then subscribe again."
        )
    if not response.is_success:
        raise DeliveryFailed(f"Discord answered {detail} for webhook {hook}.")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "id" not in body:
        raise DeliveryFailed(f"Discord answered {status} without JSON for webhook {hook}.")
    return body


def _changed(hook: int, message_id: int, response: httpx.Response) -> dict[str, Any]:
    """The message a read or an edit returned; one Discord will not let us change (deleted,
    its webhook gone, refused) is `MessageGone`, a failure that may pass `DeliveryFailed`."""
    if response.status_code in _MESSAGE_OUT_OF_REACH:
        detail = f"{response.status_code} {_discord_message(response)}".strip()
        raise MessageGone(f"Message {message_id} of webhook {hook} cannot be changed ({detail}).")
    return _answer(hook, response)


def _discord_message(response: httpx.Response) -> str:
    """Discord's error text ("Unknown Webhook"), when the body says one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def _reset_after(response: httpx.Response) -> float:
    """Seconds until a used-up bucket refills, from `X-RateLimit-Reset-After`."""
    try:
        return float(response.headers.get("X-RateLimit-Reset-After", DEFAULT_RETRY_AFTER))
    except ValueError:
        return DEFAULT_RETRY_AFTER


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait after a 429: JSON `retry_after`, else the `Retry-After` header."""
    try:
        return float(response.json()["retry_after"])
    except (ValueError, KeyError, TypeError):
        pass
    try:
        return float(response.headers.get("Retry-After", DEFAULT_RETRY_AFTER))
    except ValueError:
        return DEFAULT_RETRY_AFTER


async def _count_rate_limit(response: httpx.Response) -> None:
    if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
        from bot import metrics  # prometheus-client, loaded by the first 429 only

        metrics.DISCORD_RATE_LIMITED.labels("webhook").inc()


def webhook_http_client(timeout: float) -> httpx.AsyncClient:
    """An HTTP client for webhook posts that counts Discord's 429s in the metrics."""
    return httpx.AsyncClient(timeout=timeout, event_hooks={"response": [_count_rate_limit]})
