"""The interface delivery posts through; discord.py and Discord webhooks each implement it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.errors import SentinelError

Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an alert goes: a channel reached by the bot, or a webhook URL."""

    guild_id: int
    channel_id: int
    webhook_url: str | None = None


class DeliveryFailed(SentinelError):
    """Posting failed for a reason that may pass (5xx, network): retry with backoff."""


class DestinationGone(SentinelError):
    """The channel is gone (404) or forbids us (403): pause its subscriptions, stop retrying.

    `str(error)` is the reason `/watch list` shows, e.g. "Missing permissions in #alerts".
    """


class MessageRejected(SentinelError):
    """Discord refused the message itself (400): sent again it would be refused again, so its
    alerts fail for good and the destination's other messages go on."""


class MessageGone(SentinelError):
    """A posted message can no longer be read or changed (deleted, out of the bot's reach, or
    refused): what was to change in it is said in a new message instead."""


class NoRoute(SentinelError):
    """No sender in this process reaches the destination (a channel, with no bot running).

    Not an attempt: the alerts stay pending for a process that can deliver them.
    """


class Sender(Protocol):
    async def send(self, destination: Destination, message: Message) -> int:
        """Post `message` (Discord's REST message shape, already within limits); return its id.

        Raises `DestinationGone`, `DeliveryFailed` or `NoRoute`; anything else is a bug.
        """
        ...


@runtime_checkable
class Editor(Sender, Protocol):
    """A sender that can also change what it posted (an advisory marked withdrawn in place)."""

    async def fetch(self, destination: Destination, message_id: int) -> Message:
        """The posted message `message_id` as Discord returns it.

        Raises `MessageGone`, `DeliveryFailed` or `NoRoute`; anything else is a bug.
        """
        ...

    async def edit(self, destination: Destination, message_id: int, changes: Message) -> None:
        """Change the posted message `message_id` (what `changes` leaves out stays as it is).

        Raises as `fetch`.
        """
        ...


class RoutingSender:
    """Webhook destinations go to the webhook sender, channels to the bot when there is one;
    the same for changing a posted message."""

    def __init__(self, bot: Sender | None, webhook: Editor) -> None:
        self.bot = bot
        self.webhook = webhook

    async def send(self, destination: Destination, message: Message) -> int:
        if destination.webhook_url is not None:
            return await self.webhook.send(destination, message)
        return await self._bot(destination).send(destination, message)

    async def fetch(self, destination: Destination, message_id: int) -> Message:
        return await self._editor(destination).fetch(destination, message_id)

    async def edit(self, destination: Destination, message_id: int, changes: Message) -> None:
        await self._editor(destination).edit(destination, message_id, changes)

    def _bot(self, destination: Destination) -> Sender:
        if self.bot is None:
            raise NoRoute(
                f"No bot is running to post in channel {destination.channel_id}; "
                "its alerts wait until one does."
            )
        return self.bot

    def _editor(self, destination: Destination) -> Editor:
        if destination.webhook_url is not None:
            return self.webhook
        bot = self._bot(destination)
        if not isinstance(bot, Editor):
            raise MessageGone("This sender cannot change a message it posted.")
        return bot
