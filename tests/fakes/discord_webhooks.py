"""Interaction callbacks and webhook routes: acknowledgements, followups, channel webhooks.

Discord's rules enforced here: acknowledge within the deadline (3 s) and only once, answer with
a response type the interaction allows, no followups once the token expired (15 minutes).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from tests.fakes.discord_http import (
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    DiscordError,
    Upload,
    json_body,
    json_response,
    request_uploads,
)
from tests.fakes.discord_interactions import (
    ALLOWED_RESPONSES,
    APPLICATION_COMMAND,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_MESSAGE,
    DEFERRED_UPDATE,
    UPDATE_MESSAGE,
    InteractionRecord,
)
from tests.fakes.discord_limits import choice_problems
from tests.fakes.discord_models import EPHEMERAL, LOADING, PostedMessage
from tests.fakes.discord_state import DiscordState, FakeWebhook

CHAT_INPUT_COMMAND_MESSAGE = 20
Sender = InteractionRecord | FakeWebhook


def _now() -> float:
    return asyncio.get_running_loop().time()


class Webhooks:
    """Handlers for `/interactions/...` and `/webhooks/...` (authorised by token, not bot auth)."""

    def __init__(self, state: DiscordState) -> None:
        self.state = state

    # --- interaction callback --------------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        interaction_id = int(request.match_info["interaction_id"])
        record = next((r for r in self.state.interactions if r.id == interaction_id), None)
        if record is None or record.token != request.match_info["token"]:
            raise DiscordError(*UNKNOWN_INTERACTION)
        body = json_body(request)
        try:
            kind, data = body.get("type", 0), body.get("data") or {}
            message = self._acknowledge(record, kind, data, request_uploads(request))
        except DiscordError as exc:
            record.errors.append(f"{exc.status} {exc.body['message']}")
            self.state.notify()
            raise
        if not request.query.get("with_response"):
            return web.Response(status=204)
        return json_response(_callback_body(record, message))

    def _acknowledge(
        self,
        record: InteractionRecord,
        kind: int,
        data: dict[str, Any],
        uploads: dict[int, Upload],
    ) -> PostedMessage | None:
        """Enforce the acknowledgement rules, then apply the callback."""
        where = f"interaction {record.name!r} callback type {kind}"
        if record.response_type is not None:
            self.state.violate("interaction.acknowledged_twice", where)
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        elapsed = _now() - record.dispatched_at
        if record.ack_seconds is None:
            record.ack_seconds = elapsed
        if elapsed > self.state.ack_deadline:
            detail = f"{where}: after {elapsed:.3f}s, limit {self.state.ack_deadline}s"
            self.state.violate("interaction.late", detail)
            raise DiscordError(*UNKNOWN_INTERACTION)
        if kind not in ALLOWED_RESPONSES[record.type]:
            self.state.violate("interaction.response_type", f"{where}: not allowed here")
            raise DiscordError(400, 50035, "Invalid Form Body")
        message = self._respond(record, kind, data, uploads, where)
        record.response_type, record.response = kind, data
        self.state.notify()
        return message

    def _respond(
        self,
        record: InteractionRecord,
        kind: int,
        data: dict[str, Any],
        uploads: dict[int, Upload],
        where: str,
    ) -> PostedMessage | None:
        """Apply one accepted callback; returns the message it created or updated."""
        if kind == AUTOCOMPLETE_RESULT:
            record.choices = data.get("choices") or []
            self.state.check(choice_problems(record.choices), where)
            return None
        if kind == CHANNEL_MESSAGE:
            record.message = self._create(record, data, uploads, where)
        elif kind == DEFERRED_MESSAGE:
            flags = LOADING | ((data.get("flags") or 0) & EPHEMERAL)
            record.message = self.state.store_message(
                record.channel_id,
                {},
                {},
                author=self.state.bot.payload(),
                flags=flags,
                **self._interaction_fields(record),
            )
        else:
            source = self.state.message(int(record.payload["message"]["id"]))
            if kind == UPDATE_MESSAGE:
                self.state.edit_message(source, data, uploads, where)
            record.message = source
        return record.message if kind != DEFERRED_UPDATE else None

    def _create(
        self,
        record: InteractionRecord,
        body: dict[str, Any],
        uploads: dict[int, Upload],
        where: str,
    ) -> PostedMessage:
        return self.state.create_message(
            record.channel_id,
            body,
            uploads,
            author=self.state.bot.payload(),
            where=where,
            **self._interaction_fields(record),
        )

    def _interaction_fields(self, record: InteractionRecord) -> dict[str, Any]:
        kind = CHAT_INPUT_COMMAND_MESSAGE if record.type == APPLICATION_COMMAND else 0
        return {"type": kind, "webhook_id": self.state.bot.id, "interaction_id": record.id}

    # --- webhooks and followups ------------------------------------------------------------------

    def _sender(self, request: web.Request) -> Sender:
        webhook_id, token = int(request.match_info["webhook_id"]), request.match_info["token"]
        if webhook_id == self.state.bot.id:
            record = self.state.interaction_by_token(token)
            if record is None or record.response_type is None:
                raise DiscordError(*UNKNOWN_WEBHOOK)
            if _now() - record.dispatched_at > self.state.token_lifetime:
                self.state.violate("interaction.token_expired", f"{request.method} followup")
                raise DiscordError(401, 50027, "Invalid Webhook Token")
            return record
        hook = self.state.webhooks.get(webhook_id)
        if hook is None or hook.token != token:
            raise DiscordError(*UNKNOWN_WEBHOOK)
        self.state.find_channel(hook.channel_id)  # a deleted channel takes its webhooks along
        return hook

    async def describe(self, request: web.Request) -> web.Response:
        """Get Webhook with Token: where a channel webhook posts (no bot token needed)."""
        hook = self._sender(request)
        if isinstance(hook, InteractionRecord):
            raise DiscordError(*UNKNOWN_WEBHOOK)
        guild, _channel = self.state.find_channel(hook.channel_id)
        return json_response(
            {
                "id": str(hook.id),
                "type": 1,
                "name": hook.name,
                "avatar": None,
                "channel_id": str(hook.channel_id),
                "guild_id": str(guild.id),
                "application_id": None,
                "token": hook.token,
            }
        )

    async def execute(self, request: web.Request) -> web.Response:
        """A followup (interaction token) or a channel webhook message; `?wait` returns it."""
        sender, body, uploads = self._sender(request), json_body(request), request_uploads(request)
        where = f"POST /webhooks/{request.match_info['webhook_id']}"
        if isinstance(sender, InteractionRecord):
            message = self._followup(sender, body, uploads, where)
        else:  # `?thread_id=` posts in a thread of the webhook's channel
            message = self.state.create_message(
                int(request.query.get("thread_id", sender.channel_id)),
                body,
                uploads,
                author=_webhook_author(sender, body),
                where=where,
                webhook_id=sender.id,
            )
        if request.query.get("wait", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        return json_response(message.payload())

    def _followup(
        self,
        record: InteractionRecord,
        body: dict[str, Any],
        uploads: dict[int, Upload],
        where: str,
    ) -> PostedMessage:
        """The first followup after a deferral fills in the "thinking…" placeholder."""
        placeholder = record.message
        if placeholder is not None and placeholder.loading:
            return self.state.edit_message(placeholder, body, uploads, where, partial=False)
        message = self._create(record, body, uploads, where)
        record.followups.append(message)
        self.state.notify()
        return message

    def _sender_message(self, request: web.Request) -> PostedMessage:
        sender, message_id = self._sender(request), request.match_info["message_id"]
        if isinstance(sender, InteractionRecord):
            if message_id == "@original":
                if sender.message is None:
                    raise DiscordError(*UNKNOWN_MESSAGE)
                return self.state.message(sender.message.id)
            message = self.state.message(int(message_id))
            if message.interaction_id != sender.id:
                raise DiscordError(*UNKNOWN_MESSAGE)
            return message
        message = self.state.message(int(message_id))
        # A message the webhook posted in a thread is found only with that `?thread_id=`.
        where = request.query.get("thread_id", str(sender.channel_id))
        if message.webhook_id != sender.id or str(message.channel_id) != where:
            raise DiscordError(*UNKNOWN_MESSAGE)
        return message

    async def get_message(self, request: web.Request) -> web.Response:
        return json_response(self._sender_message(request).payload())

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._sender_message(request)
        where = f"PATCH /webhooks/{request.match_info['webhook_id']}/…/messages/{message.id}"
        self.state.edit_message(message, json_body(request), request_uploads(request), where)
        return json_response(message.payload())

    async def delete(self, request: web.Request) -> web.Response:
        self._sender_message(request).deleted = True
        self.state.notify()
        return web.Response(status=204)


def _callback_body(record: InteractionRecord, message: PostedMessage | None) -> dict[str, Any]:
    """The `?with_response=1` answer; discord.py reads `interaction` and `resource`."""
    interaction: dict[str, Any] = {"id": str(record.id), "type": record.type}
    resource: dict[str, Any] = {"type": record.response_type}
    if message is not None:
        interaction.update(
            response_message_id=str(message.id),
            response_message_loading=message.loading,
            response_message_ephemeral=message.ephemeral,
        )
        resource["message"] = message.payload()
    return {"interaction": interaction, "resource": resource}


def _webhook_author(hook: FakeWebhook, body: dict[str, Any]) -> dict[str, Any]:
    """The author Discord shows for a webhook message (the name is overridable per message)."""
    return {
        "id": str(hook.id),
        "username": body.get("username") or hook.name,
        "avatar": None,
        "discriminator": "0000",
        "bot": True,
    }
