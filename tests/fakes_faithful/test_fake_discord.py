"""The fake Discord is faithful: a real discord.py bot connects, answers and posts through it."""

from __future__ import annotations

import asyncio
import io

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_gateway import shard_of
from tests.fakes.discord_models import FakeGuild, Mentions
from tests.fakes.discord_runner import BotStarter, DiscordScene, pointed_at, running_bot

ERROR_TIMEOUT = 5.0


class ProbeTree(app_commands.CommandTree):
    """Queues app-command errors so a test can await them."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        assert isinstance(interaction.client, ProbeBot)
        interaction.client.errors.put_nowait(error)


class ConfirmView(discord.ui.View):
    @discord.ui.button(label="Confirm", custom_id="confirm")
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmView]
    ) -> None:
        await interaction.response.edit_message(content="confirmed", view=None)


class ProbeBot(commands.Bot):
    """A tiny bot exercising what the fake must get right."""

    def __init__(self) -> None:
        super().__init__(
            command_prefix="!",
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
            tree_cls=ProbeTree,
        )
        self.choice_count = 25
        self.errors: asyncio.Queue[app_commands.AppCommandError] = asyncio.Queue()

    async def setup_hook(self) -> None:
        self.tree.add_command(ping)
        self.tree.add_command(probe)

    async def next_error(self) -> BaseException:
        """The next command error, unwrapped."""
        error = await asyncio.wait_for(self.errors.get(), ERROR_TIMEOUT)
        return getattr(error, "original", error)


@app_commands.command(description="Answer with an embed.")
async def ping(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(embed=discord.Embed(title="pong"))


probe = app_commands.Group(name="probe", description="Exercise the fake Discord.")


@probe.command(description="Defer, then answer with a followup.")
async def slow(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.followup.send("slow answer")


@probe.command(description="Pick a package.")
async def pick(interaction: discord.Interaction, slug: str) -> None:
    await interaction.response.send_message(f"picked {slug}", ephemeral=True)


@pick.autocomplete("slug")
async def pick_slug(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    assert isinstance(interaction.client, ProbeBot)
    names = (f"{current}-{i}" for i in range(interaction.client.choice_count))
    return [app_commands.Choice(name=name, value=name) for name in names]


@probe.command(description="Answer with an embed Discord refuses.")
async def huge(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(embed=discord.Embed(description="x" * 5000))


@probe.command(description="Post to a channel without pinging anyone.")
async def announce(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
    none = discord.AllowedMentions.none()
    await channel.send("@everyone <@123> django 5.2 is out", allowed_mentions=none)
    await interaction.response.send_message("announced", ephemeral=True)


@probe.command(description="Offer a button.")
async def confirm(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("sure?", view=ConfirmView())


@pytest.fixture
async def bot(start_bot: BotStarter) -> ProbeBot:
    started = await start_bot(ProbeBot())
    assert isinstance(started, ProbeBot)
    return started


def rules(fake: FakeDiscord) -> list[str]:
    return [v.rule for v in fake.violations]


async def test_bot_connects_and_syncs(discord_fake: FakeDiscord, bot: ProbeBot) -> None:
    [session] = discord_fake.connections
    assert session.ready
    assert session.heartbeats >= 1
    assert session.intents == discord.Intents.default().value
    assert [g.name for g in bot.guilds] == ["Django Community"]

    synced = await bot.tree.sync()

    assert [c.name for c in synced] == ["ping", "probe"]
    assert [c["name"] for c in discord_fake.synced_commands[None]] == ["ping", "probe"]


async def test_slash_command_answer_is_recorded(
    discord_fake: FakeDiscord, discord_scene: DiscordScene, bot: ProbeBot
) -> None:
    record = await discord_fake.run_command("ping", user=discord_scene.manager)

    assert record.response_type == 4
    assert [e["title"] for e in record.embeds] == ["pong"]
    assert not record.ephemeral
    assert discord_fake.messages(discord_scene.alerts.id) == [record.message]
    assert discord_fake.violations == []


async def test_deferred_answer_fills_in_the_placeholder(
    discord_fake: FakeDiscord, bot: ProbeBot
) -> None:
    record = await discord_fake.run_command("probe", subcommand="slow")

    assert record.deferred
    assert record.response_type == 5
    assert record.content == "slow answer"
    assert record.followups == []
    assert discord_fake.violations == []


async def test_autocomplete_allows_25_choices_and_refuses_30(
    discord_fake: FakeDiscord, bot: ProbeBot
) -> None:
    choices = await discord_fake.autocomplete("probe pick", {"slug": "dj"}, focused="slug")
    assert len(choices) == 25
    assert choices[0] == {"name": "dj-0", "value": "dj-0"}
    assert discord_fake.violations == []

    bot.choice_count = 30
    choices = await discord_fake.autocomplete("probe pick", {"slug": "dj"}, focused="slug")

    assert len(choices) == 30
    assert rules(discord_fake) == ["autocomplete.choices"]
    assert discord_fake.interactions[-1].errors == ["400 Invalid Form Body"]


async def test_oversized_embed_is_refused_with_400(
    discord_fake: FakeDiscord, bot: ProbeBot
) -> None:
    record = await discord_fake.run_command("probe huge")

    error = await bot.next_error()
    assert isinstance(error, discord.HTTPException)
    assert error.status == 400
    assert "embeds.0.description" in error.text
    assert record.response_type is None
    assert rules(discord_fake) == ["embed.description"]


async def test_late_acknowledgement_is_detected(discord_fake: FakeDiscord, bot: ProbeBot) -> None:
    discord_fake.ack_deadline = 0.0

    record = await discord_fake.run_command("ping")

    assert isinstance(await bot.next_error(), discord.NotFound)
    assert record.response_type is None
    assert rules(discord_fake) == ["interaction.late"]


async def test_channel_posts_record_their_effective_pings(
    discord_fake: FakeDiscord, discord_scene: DiscordScene, bot: ProbeBot
) -> None:
    alerts = discord_scene.alerts
    await discord_fake.run_command(
        "probe announce", {"channel": alerts}, channel_id=discord_scene.general.id
    )
    await bot.get_partial_messageable(alerts.id).send("@everyone <@123> unguarded")

    guarded, unguarded = await discord_fake.wait_for_messages(alerts.id, 2)
    assert guarded.allowed_mentions == {"parse": []}
    assert guarded.mentions.nobody
    assert unguarded.allowed_mentions is None
    assert unguarded.mentions == Mentions(everyone=True, users=frozenset({123}))
    assert discord_fake.violations == []


async def test_component_click_updates_the_message(
    discord_fake: FakeDiscord, bot: ProbeBot
) -> None:
    offer = await discord_fake.run_command("probe confirm")
    assert offer.message is not None

    click = await discord_fake.click(offer.message, "confirm")

    assert click.response_type == 7
    assert click.message is offer.message
    assert (offer.message.content, offer.message.components) == ("confirmed", [])


async def test_files_are_sent_as_multipart(
    discord_fake: FakeDiscord, discord_scene: DiscordScene, bot: ProbeBot
) -> None:
    channel = bot.get_partial_messageable(discord_scene.alerts.id)

    sent = await channel.send("report", file=discord.File(io.BytesIO(b"42"), "report.txt"))

    [posted] = discord_fake.messages(discord_scene.alerts.id)
    assert [a.filename for a in sent.attachments] == ["report.txt"]
    assert posted.files == {"report.txt": b"42"}


async def test_forbidden_and_deleted_channels(
    discord_fake: FakeDiscord, discord_scene: DiscordScene, bot: ProbeBot
) -> None:
    discord_fake.forbid_channel(discord_scene.alerts.id)
    discord_fake.delete_channel(discord_scene.general.id)

    with pytest.raises(discord.Forbidden) as forbidden:
        await bot.get_partial_messageable(discord_scene.alerts.id).send("hello")
    with pytest.raises(discord.NotFound) as not_found:
        await bot.get_partial_messageable(discord_scene.general.id).send("hello")

    assert (forbidden.value.code, not_found.value.code) == (50013, 10003)
    assert discord_fake.violations == []


async def test_server_errors_and_rate_limits_are_retried(
    discord_fake: FakeDiscord, discord_scene: DiscordScene, bot: ProbeBot
) -> None:
    channel = bot.get_partial_messageable(discord_scene.alerts.id)
    discord_fake.fail_next("POST /channels/", status=500)
    discord_fake.rate_limit_next("POST /channels/", retry_after=0.01)

    await channel.send("eventually")

    posts = [r.status for r in discord_fake.requests if r.method == "POST"]
    assert posts == [500, 429, 200]
    assert [m.content for m in discord_fake.messages(discord_scene.alerts.id)] == ["eventually"]


async def test_webhook_sender_without_a_bot(
    discord_fake: FakeDiscord, discord_scene: DiscordScene
) -> None:
    hook = discord_fake.create_webhook(discord_scene.alerts.id)

    with pointed_at(discord_fake):
        async with aiohttp.ClientSession() as session:
            webhook = discord.Webhook.partial(hook.id, hook.token, session=session)
            sent = await webhook.send("via webhook @here", username="Releases", wait=True)

    [posted] = discord_fake.messages(discord_scene.alerts.id)
    assert (sent.id, posted.webhook_id, posted.author["username"]) == (
        posted.id,
        hook.id,
        "Releases",
    )
    assert posted.mentions == Mentions(everyone=True)


async def test_a_webhook_changes_its_message_in_a_thread_only_naming_the_thread(
    discord_fake: FakeDiscord, discord_scene: DiscordScene
) -> None:
    hook = discord_fake.create_webhook(discord_scene.alerts.id)
    thread = discord_scene.guild.add_thread(discord_scene.alerts, "releases")

    with pointed_at(discord_fake):
        async with aiohttp.ClientSession() as session:
            webhook = discord.Webhook.partial(hook.id, hook.token, session=session)
            in_thread = discord.Object(thread.id)
            sent = await webhook.send("first", thread=in_thread, wait=True)
            with pytest.raises(discord.NotFound):
                await webhook.fetch_message(sent.id)
            edited = await webhook.edit_message(sent.id, content="changed", thread=in_thread)

    [posted] = discord_fake.messages(thread.id)
    assert (edited.content, posted.content) == ("changed", "changed")
    assert posted.edited_timestamp is not None


async def test_bot_resumes_after_a_drop_and_reconnects_after_a_restart(
    discord_fake: FakeDiscord,
) -> None:
    async with running_bot(ProbeBot(), discord_fake):
        await discord_fake.disconnect_gateway()
        await discord_fake.wait_for_sessions(2)
        assert (await discord_fake.run_command("ping")).embeds

    async with running_bot(ProbeBot(), discord_fake):
        assert (await discord_fake.run_command("ping")).embeds

    assert [c.resumed for c in discord_fake.connections] == [False, True, False]
    assert discord_fake.violations == []


class ShardedProbe(commands.AutoShardedBot):
    """The probe as an `AutoShardedBot` holding some of the shards."""

    def __init__(self, shard_ids: list[int], shard_count: int) -> None:
        super().__init__(
            command_prefix="!",
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
            shard_ids=shard_ids,
            shard_count=shard_count,
        )

    async def setup_hook(self) -> None:
        self.tree.add_command(ping)


async def test_shards_receive_only_their_guilds_and_interactions(
    discord_scene: DiscordScene,
) -> None:
    fake = discord_scene.fake
    guilds: list[FakeGuild] = []
    while {shard_of(g.id, 2) for g in guilds} != {0, 1}:  # ids from the clock: wait for both
        await asyncio.sleep(0.001)
        guild = fake.add_guild(f"Guild {len(guilds)}")
        guild.add_text_channel("alerts")
        fake.add_member(guild, "member")
        guilds.append(guild)
    owner = {guild.id: shard_of(guild.id, 2) for guild in [discord_scene.guild, *guilds]}

    async with (
        running_bot(ShardedProbe([0], 2), fake) as first,
        running_bot(ShardedProbe([1], 2), fake) as second,
    ):
        for guild in guilds:
            await fake.run_command("ping", channel_id=guild.channels[0].id)
        held = {0: {g.id for g in first.guilds}, 1: {g.id for g in second.guilds}}

    for shard, ids in held.items():
        assert ids == {guild_id for guild_id, s in owner.items() if s == shard}
    assert [c.shard for c in fake.connections] == [[0, 2], [1, 2]]
    assert all(r.response_type is not None and r.errors == [] for r in fake.interactions)
    assert fake.violations == []


async def test_gateway_bot_recommends_the_configured_shard_count() -> None:
    async with FakeDiscord(shards=3) as fake, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bot {fake.token}"}
        async with http.get(f"{fake.api_base}/gateway/bot", headers=headers) as response:
            body = await response.json()

    assert body["shards"] == 3
    assert body["url"] == fake.gateway_url
