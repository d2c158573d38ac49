"""Channel settings and feature-complete marks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from storage import channels
from storage.database import Database
from storage.models import DigestMode

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
GUILD, CHANNEL, OTHER = 10, 20, 30


async def test_a_channel_never_configured_gets_the_defaults(database: Database) -> None:
    async with database.session() as session:
        prefs = await channels.preferences(session, CHANNEL)

    assert prefs == channels.ChannelPreferences(CHANNEL)
    assert prefs.digest_mode is DigestMode.IMMEDIATE
    assert prefs.staleness_threshold(365) == 365


async def test_updates_keep_what_was_not_changed(database: Database) -> None:
    async with database.transaction() as session:
        await channels.update_preferences(
            session,
            guild_id=GUILD,
            channel_id=CHANNEL,
            updated_by=1,
            now=NOW,
            digest_mode=DigestMode.DAILY,
            digest_hour=18,
            stale_after_days=180,
        )
    async with database.transaction() as session:
        await channels.update_preferences(
            session,
            guild_id=GUILD,
            channel_id=CHANNEL,
            updated_by=1,
            now=NOW,
            digest_bypass=["release:major", "stale"],
            stale_after_days=None,
        )
    async with database.session() as session:
        prefs = await channels.preferences_for(session, [CHANNEL, OTHER])
        listed = await channels.changed_preferences(session, guild_id=GUILD)

    assert prefs[CHANNEL].digest_mode is DigestMode.DAILY
    assert prefs[CHANNEL].digest_hour == 18
    assert prefs[CHANNEL].digest_bypass == ("release:major", "stale")
    assert prefs[CHANNEL].stale_after_days is None
    assert prefs[OTHER] == channels.ChannelPreferences(OTHER)
    assert [prefs.channel_id for _, prefs in listed] == [CHANNEL]


async def test_unknown_setting_is_refused(database: Database) -> None:
    async with database.transaction() as session:
        with pytest.raises(ValueError, match="unknown channel settings: colour"):
            await channels.update_preferences(
                session,
                guild_id=GUILD,
                channel_id=CHANNEL,
                updated_by=1,
                now=NOW,
                colour="red",  # type: ignore[call-arg]  # what an untyped caller (import) may send
            )


async def test_out_of_range_hour_is_rejected_by_the_database(database: Database) -> None:
    with pytest.raises(IntegrityError):
        async with database.transaction() as session:
            await channels.update_preferences(
                session, guild_id=GUILD, channel_id=CHANNEL, updated_by=1, now=NOW, digest_hour=24
            )


async def test_feature_complete_marks_are_per_channel(database: Database) -> None:
    async with database.transaction() as session:
        first = await channels.mark_feature_complete(
            session, guild_id=GUILD, channel_id=CHANNEL, package_id=265, marked_by=1, now=NOW
        )
        again = await channels.mark_feature_complete(
            session, guild_id=GUILD, channel_id=CHANNEL, package_id=265, marked_by=1, now=NOW
        )
    async with database.session() as session:
        marks = await channels.feature_complete_for(session, [CHANNEL, OTHER])
    async with database.transaction() as session:
        removed = await channels.unmark_feature_complete(
            session, channel_id=CHANNEL, package_id=265
        )
        removed_again = await channels.unmark_feature_complete(
            session, channel_id=CHANNEL, package_id=265
        )

    assert (first, again) == (True, False)
    assert marks == {CHANNEL: frozenset({265}), OTHER: frozenset()}
    assert (removed, removed_again) == (True, False)


async def test_channels_with_their_own_staleness_rule(database: Database) -> None:
    async with database.transaction() as session:
        await channels.update_preferences(
            session, guild_id=GUILD, channel_id=CHANNEL, updated_by=1, now=NOW, stale_after_days=90
        )
        await channels.update_preferences(
            session, guild_id=GUILD, channel_id=OTHER, updated_by=1, now=NOW, daily_cap=5
        )
        await channels.mark_feature_complete(
            session, guild_id=GUILD, channel_id=40, package_id=265, marked_by=1, now=NOW
        )
    async with database.session() as session:
        own = await channels.own_staleness_channel_ids(session)

    assert own == {CHANNEL, 40}
