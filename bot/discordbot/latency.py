"""Interaction latency for `/metrics`: from an interaction's creation on Discord to its answer."""

from __future__ import annotations

import discord

from bot import metrics


def observe_latency(interaction: discord.Interaction) -> None:
    """Record how long the interaction took, from its creation on Discord to now."""
    seconds = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    metrics.INTERACTION_SECONDS.labels(interaction.type.name).observe(max(seconds, 0.0))
