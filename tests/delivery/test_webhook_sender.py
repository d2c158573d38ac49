"""The webhook sender against the fake Discord's webhook route, and webhook URL handling."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.delivery.senders import DeliveryFailed, Destination, DestinationGone, MessageGone
from bot.delivery.webhook import InvalidWebhookUrl, WebhookSender, resolve_webhook, webhook_id
from tests.fakes.discord_api import WEBHOOK_TEST_HOST, FakeDiscord
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.discord_state import FakeWebhook
from tests.fakes.sleep import RecordingSleep

MESSAGE = {
    "embeds": [{"title": "django-flatblocks 1.0.1 released"}],
    "allowed_mentions": {"parse": []},
}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
def hook(discord_scene: DiscordScene) -> FakeWebhook:
    return discord_scene.fake.create_webhook(discord_scene.alerts.id)


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def sender(http: httpx.AsyncClient, sleeps: RecordingSleep) -> WebhookSender:
    return WebhookSender(http, sleep=sleeps, max_wait=5.0, test_host=WEBHOOK_TEST_HOST)


def to(hook: FakeWebhook, url: str | None = None) -> Destination:
    return Destination(guild_id=1, channel_id=hook.channel_id, webhook_url=url or hook.url)


async def test_a_message_is_posted_and_its_id_returned(
    sender: WebhookSender, hook: FakeWebhook, discord_fake: FakeDiscord
) -> None:
    message_id = await sender.send(to(hook), MESSAGE)

    (posted,) = discord_fake.messages(hook.channel_id)
    assert (posted.id, posted.webhook_id, posted.embeds) == (message_id, hook.id, MESSAGE["embeds"])
    assert discord_fake.requests[-1].query == {"wait": "true"}
    assert discord_fake.violations == []


async def test_a_message_posted_in_a_thread_is_read_and_changed_there(
    sender: WebhookSender,
    hook: FakeWebhook,
    discord_fake: FakeDiscord,
    discord_scene: DiscordScene,
) -> None:
    thread = discord_scene.guild.add_thread(discord_scene.alerts, "releases")
    route = to(hook, f"{hook.url}?thread_id={thread.id}")
    message_id = await sender.send(route, MESSAGE)

    fetched = await sender.fetch(route, message_id)
    await sender.edit(route, message_id, {"embeds": [{"title": "changed"}]})

    assert fetched["embeds"] == MESSAGE["embeds"]
    [posted] = discord_fake.messages(thread.id)
    assert (posted.embeds, posted.content) == ([{"title": "changed"}], "")
    assert discord_fake.violations == []


@pytest.mark.parametrize("gone", ["message", "webhook"])
async def test_a_message_deleted_or_of_a_deleted_webhook_cannot_be_changed(
    sender: WebhookSender, hook: FakeWebhook, discord_fake: FakeDiscord, gone: str
) -> None:
    message_id = await sender.send(to(hook), MESSAGE)
    if gone == "message":
        discord_fake.messages(hook.channel_id)[0].deleted = True
    else:
        del discord_fake.state.webhooks[hook.id]

    with pytest.raises(MessageGone):
        await sender.fetch(to(hook), message_id)
    with pytest.raises(MessageGone):
        await sender.edit(to(hook), message_id, {"embeds": []})


async def test_a_short_rate_limit_is_waited_out_once(
    sender: WebhookSender, hook: FakeWebhook, discord_fake: FakeDiscord, sleeps: RecordingSleep
) -> None:
    discord_fake.rate_limit_next("POST /webhooks/", retry_after=0.25)

    await sender.send(to(hook), MESSAGE)

    assert sleeps.calls == [0.25]
    assert len(discord_fake.messages(hook.channel_id)) == 1


@pytest.mark.parametrize(
    ("retry_after", "times", "waits"), [(60.0, 1, []), (0.25, 2, [0.25])], ids=["long", "twice"]
)
async def test_a_long_or_repeated_rate_limit_is_left_to_the_retry_schedule(
    sender: WebhookSender,
    hook: FakeWebhook,
    discord_fake: FakeDiscord,
    sleeps: RecordingSleep,
    retry_after: float,
    times: int,
    waits: list[float],
) -> None:
    discord_fake.rate_limit_next("POST /webhooks/", retry_after=retry_after, times=times)

    with pytest.raises(DeliveryFailed):
        await sender.send(to(hook), MESSAGE)
    assert sleeps.calls == waits


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_may_pass(
    sender: WebhookSender, hook: FakeWebhook, discord_fake: FakeDiscord, status: int
) -> None:
    discord_fake.fail_next("POST /webhooks/", status)
    with pytest.raises(DeliveryFailed, match=str(status)):
        await sender.send(to(hook), MESSAGE)


async def test_an_unreachable_discord_may_pass(sender: WebhookSender, hook: FakeWebhook) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/v10/webhooks/{hook.id}/{hook.token}"
    with pytest.raises(DeliveryFailed) as failure:
        await sender.send(to(hook, url), MESSAGE)
    assert hook.token not in str(failure.value)
    assert str(failure.value).startswith(
        f"Could not reach Discord to post through webhook {hook.id} ("
    )
    assert "Error(" not in str(failure.value)


async def test_a_deleted_webhook_is_gone(
    sender: WebhookSender, hook: FakeWebhook, discord_fake: FakeDiscord
) -> None:
    discord_fake.state.webhooks.pop(hook.id)
    with pytest.raises(DestinationGone, match="404 Unknown Webhook") as gone:
        await sender.send(to(hook), MESSAGE)
    assert hook.token not in str(gone.value)


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_webhook_is_gone(
    sender: WebhookSender, hook: FakeWebhook, discord_fake: FakeDiscord, status: int
) -> None:
    discord_fake.fail_next("POST /webhooks/", status)
    with pytest.raises(DestinationGone, match=str(status)):
        await sender.send(to(hook), MESSAGE)


@pytest.mark.parametrize(
    "url",
    [
        "https://discord.com/api/webhooks/123/abc_DEF-1",
        "https://discordapp.com/api/webhooks/123/abc",
        "https://canary.discord.com/api/v10/webhooks/123/abc",
        " https://discord.com/api/webhooks/123/abc ",
        "https://discord.com/api/webhooks/123/abc?thread_id=5",
    ],
)
def test_webhook_urls_are_recognised(url: str) -> None:
    assert webhook_id(url) == 123


@pytest.mark.parametrize(
    "url",
    [
        "http://discord.com/api/webhooks/123/abc",
        "https://discord.com.evil.test/api/webhooks/123/abc",
        "https://evil.test/api/webhooks/123/abc",
        "https://discord.com/api/webhooks/123",
        "https://discord.com/api/webhooks/abc/def",
        "https://discord.com/api/webhooks/123/abc?thread_id=five",
        "https://discord.com/api/webhooks/123/abc?token=x",
        "not a url",
        # A local host is a test seam: refused unless WEBHOOK_TEST_HOST names it.
        "http://127.0.0.1:8080/api/v10/webhooks/123/abc",
        "http://localhost:6379/api/webhooks/123/abc",
        "https://localhost/api/webhooks/123/abc",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(InvalidWebhookUrl, match="Channel Settings"):
        webhook_id(url)


@pytest.mark.parametrize(
    ("test_host", "url", "accepted"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080/api/v10/webhooks/123/abc", True),
        ("127.0.0.1", "http://127.0.0.1/api/webhooks/123/abc", True),
        ("127.0.0.1:8080", "http://127.0.0.1:8080/api/webhooks/123/abc", True),
        ("127.0.0.1:8080", "http://127.0.0.1:6379/api/webhooks/123/abc", False),
        ("127.0.0.1", "http://localhost:8080/api/webhooks/123/abc", False),
        ("127.0.0.1", "http://127.0.0.1.evil.test/api/webhooks/123/abc", False),
        ("127.0.0.1", "http://user@127.0.0.1/api/webhooks/123/abc", False),
    ],
)
def test_a_test_host_is_accepted_only_as_named(test_host: str, url: str, accepted: bool) -> None:
    if accepted:
        assert webhook_id(url, test_host=test_host) == 123
    else:
        with pytest.raises(InvalidWebhookUrl):
            webhook_id(url, test_host=test_host)


async def test_the_sender_never_posts_to_a_local_service_in_production(
    http: httpx.AsyncClient, hook: FakeWebhook, discord_fake: FakeDiscord
) -> None:
    production = WebhookSender(http)  # no WEBHOOK_TEST_HOST: Discord's hosts only

    with pytest.raises(DestinationGone, match="not a Discord webhook URL"):
        await production.send(to(hook), MESSAGE)
    assert discord_fake.messages(hook.channel_id) == []


async def test_an_invalid_stored_url_makes_the_destination_gone(
    sender: WebhookSender, hook: FakeWebhook
) -> None:
    with pytest.raises(DestinationGone, match="not a Discord webhook URL"):
        await sender.send(to(hook, "https://evil.test/api/webhooks/1/x"), MESSAGE)


def discord_answering(status: int, body: dict[str, object]) -> httpx.AsyncClient:
    """A client whose every GET gets `body` (the fake Discord has no webhook GET route)."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET"
        return httpx.Response(status, json=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


URL = "https://discord.com/api/webhooks/123/abc"


async def test_resolving_a_webhook_finds_its_guild_and_channel() -> None:
    body = {"id": "123", "type": 1, "guild_id": "7", "channel_id": "8", "token": "abc"}
    async with discord_answering(200, body) as http:
        assert await resolve_webhook(http, URL) == Destination(7, 8, URL)


async def test_resolving_a_deleted_webhook_says_so() -> None:
    async with discord_answering(404, {"message": "Unknown Webhook", "code": 10015}) as http:
        with pytest.raises(DestinationGone, match="Unknown Webhook"):
            await resolve_webhook(http, URL)


async def test_resolving_a_webhook_outside_a_server_is_refused() -> None:
    async with discord_answering(200, {"id": "123", "guild_id": None, "channel_id": "8"}) as http:
        with pytest.raises(InvalidWebhookUrl, match="server channel"):
            await resolve_webhook(http, URL)


async def test_resolving_a_webhook_discord_cannot_be_reached_for_is_one_plain_line() -> None:
    def no_such_host(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(no_such_host)) as http:
        with pytest.raises(DeliveryFailed) as failure:
            await resolve_webhook(http, URL)

    assert str(failure.value) == (
        "Could not reach Discord to check webhook 123 (name or service not known); try again later."
    )
