"""The discord.py implementation of `bot.delivery.senders.Sender`: alerts posted by the bot user."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import aiohttp
import discord
from discord.http import MultipartParameters

from bot.delivery.senders import (
    DeliveryFailed,
    Destination,
    DestinationGone,
    Message,
    MessageGone,
    MessageRejected,
    RoutingSender,
)
from bot.delivery.webhook import WebhookSender
from bot.discordbot.bot import SentinelBot
from bot.messages.limits import check_message

TOO_MANY_REQUESTS = 429
T = TypeVar("T")

#: Unless the message widens it (a role a manager configured), nobody is pinged.
NO_PINGS: dict[str, list[str]] = {"parse": []}


class DiscordSender:
    """Posts Discord REST message payloads to channels through the bot's HTTP client.

    discord.py handles 429s and waits out per-route buckets from the rate-limit headers; 403
    and 404 mean the channel is out of reach (`DestinationGone`, worded for `/watch list`);
    5xx, network errors and a 429 that outlasts discord.py's retries may pass
    (`DeliveryFailed`); a 400 is the message's own fault (`MessageRejected`). A message's
    `nonce` is sent with `enforce_nonce`: Discord then answers a repeat of it with the message
    it already created.

    A posted message is read and changed the same way; a message deleted, out of reach (403,
    404: reading needs Read Message History) or refused (400) is `MessageGone`.
    """

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def send(self, destination: Destination, message: Message) -> int:
        check_message(message)
        payload = {"allowed_mentions": NO_PINGS, **message}
        if "nonce" in payload:
            payload["enforce_nonce"] = True
        channel = f"<#{destination.channel_id}>"
        try:
            posted = await self.client.http.send_message(
                destination.channel_id,
                params=MultipartParameters(payload=payload, multipart=None, files=None),
            )
        except discord.Forbidden as exc:
            raise DestinationGone(
                f"Missing permissions in {channel}: the bot needs View Channel, Send Messages "
                "and Embed Links there."
            ) from exc
        except discord.NotFound as exc:
            raise DestinationGone(f"Channel deleted or hidden from the bot: {channel}.") from exc
        except (discord.DiscordServerError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryFailed(f"Could not post to {channel}: {exc}") from exc
        except discord.HTTPException as exc:
            if exc.status == 400:
                raise MessageRejected(f"Discord refused the message for {channel}: {exc}") from exc
            if exc.status != TOO_MANY_REQUESTS:
                raise
            raise DeliveryFailed(f"Discord kept rate limiting posts to {channel}.") from exc
        return int(posted["id"])

    async def fetch(self, destination: Destination, message_id: int) -> Message:
        where = f"message {message_id} in <#{destination.channel_id}>"
        request = self.client.http.get_message(destination.channel_id, message_id)
        return dict(await _changing(where, request))

    async def edit(self, destination: Destination, message_id: int, changes: Message) -> None:
        check_message(changes)
        where = f"message {message_id} in <#{destination.channel_id}>"
        params = MultipartParameters(payload=changes, multipart=None, files=None)
        request = self.client.http.edit_message(destination.channel_id, message_id, params=params)
        await _changing(where, request)


async def _changing(where: str, request: Awaitable[T]) -> T:
    """Await a request reading or changing a posted message, its errors as a sender's."""
    try:
        return await request
    except (discord.Forbidden, discord.NotFound) as exc:
        raise MessageGone(f"Cannot reach {where}: {exc.text or exc.status}.") from exc
    except (discord.DiscordServerError, aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise DeliveryFailed(f"Could not reach {where}: {exc}") from exc
    except discord.HTTPException as exc:
        if exc.status == 400:
            raise MessageGone(f"Discord refused to change {where}: {exc}") from exc
        raise DeliveryFailed(f"Discord answered {exc.status} for {where}.") from exc


def alert_sender(bot: SentinelBot) -> RoutingSender:
    """How the bot posts alerts: channels as the bot user, webhook routes through their URL."""
    webhooks = WebhookSender(bot.http_client, test_host=bot.runtime.settings.webhook_test_host)
    return RoutingSender(DiscordSender(bot), webhooks)
