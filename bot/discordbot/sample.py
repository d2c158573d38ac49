"""`/watch test`: a sample alert posted where a subscription's alerts go, as they would look."""

from __future__ import annotations

from bot.app.samples import sample_alert
from bot.delivery.senders import Destination
from bot.discordbot.bot import SentinelBot
from bot.discordbot.sender import alert_sender
from bot.messages.alerts import SiteLinks, build_messages
from bot.messages.cards import site_root
from storage import packages
from storage.models import Subscription

SAMPLE_NOTE = "🧪 A sample alert from /watch test: real alerts look like this."


async def post_sample(bot: SentinelBot, subscription: Subscription, *, ping: bool) -> None:
    """Build the sample as delivery builds real alerts (with the role mention when `ping`) and
    post it by the subscription's route. Raises `DestinationGone` or `DeliveryFailed` as
    delivery would."""
    runtime = bot.runtime
    alert = await sample_alert(runtime, subscription.target_kind, subscription.target_id)
    async with runtime.database.session() as session:
        stored = await packages.load_packages(session, [alert.package_id or 0])
    slugs = {package_id: package.record.slug for package_id, package in stored.items()}
    links = SiteLinks(site_root(runtime.settings.djp_api_url), slugs)
    [message] = build_messages([alert], subscription.role_id if ping else None, links)
    message["content"] = f"{message.get('content', '')} {SAMPLE_NOTE}".strip()
    destination = Destination(
        subscription.guild_id, subscription.channel_id, subscription.webhook_url
    )
    await alert_sender(bot).send(destination, message)
