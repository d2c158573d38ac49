"""Previous/Next buttons over a list of embeds, turned by the person who asked only."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

from bot.discordbot.replies import answer, fitted

log = logging.getLogger(__name__)

#: Seconds the buttons stay usable after the last click.
TIMEOUT = 180.0
NOT_YOURS = "Only the person who ran this command can turn its pages: run it yourself to browse."


class Pages(discord.ui.View):
    """One embed shown at a time, below `heading` if there is one (which stays whatever the
    page: a channel's settings above its subscriptions); the buttons are disabled at either
    end and on timeout."""

    def __init__(
        self,
        pages: Sequence[discord.Embed],
        owner_id: int,
        *,
        heading: discord.Embed | None = None,
    ) -> None:
        super().__init__(timeout=TIMEOUT)
        self.pages = pages
        self.owner_id = owner_id
        self.heading = [heading] if heading else []
        self.index = 0
        self.interaction: discord.Interaction | None = None
        self._enable()

    async def start(
        self,
        interaction: discord.Interaction,
        content: str | None = None,
        *,
        file: discord.File | None = None,
        ephemeral: bool = False,
    ) -> None:
        """Answer `interaction` with the first page, with buttons if there are more; `file`
        (an image, say) stays on the message whichever page is shown."""
        embeds = [*self.heading, self.pages[0]]
        if len(self.pages) == 1:
            self.stop()
            await answer(interaction, content, embeds=embeds, file=file, ephemeral=ephemeral)
            return
        self.interaction = interaction
        await answer(interaction, content, embeds=embeds, view=self, file=file, ephemeral=ephemeral)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    @discord.ui.button(label="Previous", emoji="◀️", custom_id="pages:previous")
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button[Pages]) -> None:
        await self._show(interaction, self.index - 1)

    @discord.ui.button(label="Next", emoji="▶️", custom_id="pages:next")
    async def next_(self, interaction: discord.Interaction, _: discord.ui.Button[Pages]) -> None:
        await self._show(interaction, self.index + 1)

    async def _show(self, interaction: discord.Interaction, index: int) -> None:
        self.index = index
        self._enable()
        _, embeds = fitted(None, [*self.heading, self.pages[index]])
        await interaction.response.edit_message(embeds=embeds, view=self)

    def _enable(self) -> None:
        self.previous.disabled = self.index == 0
        self.next_.disabled = self.index == len(self.pages) - 1

    async def on_timeout(self) -> None:
        """Grey the buttons out: they would no longer answer."""
        if self.interaction is None:
            return
        self.previous.disabled = self.next_.disabled = True
        try:
            await self.interaction.edit_original_response(view=self)
        except discord.HTTPException as exc:  # deleted, or the token expired
            log.info("could not disable the page buttons: %s", exc)
