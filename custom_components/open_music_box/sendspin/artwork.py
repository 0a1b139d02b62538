"""The cover a Sendspin player with a screen shows: the current track's, or none.

aiosendspin's artwork group role keeps the image, resizes and encodes it for each channel
the player asked for (format and size, in a worker thread) and sends it again when the
player's artwork role joins; here the cover is found and decoded (in the executor) when the
track changes.
"""

from __future__ import annotations

import asyncio
from io import BytesIO
import logging

from aiosendspin.server import SendspinClient
from aiosendspin.server.roles.artwork.group import ArtworkGroupRole
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from PIL import Image

from ..library.covers import track_cover
from ..models import Track

_LOGGER = logging.getLogger(__name__)

# Larger covers are scaled down once here: players' screens are small, and the group role
# copies the image for each channel it encodes.
MAX_SIDE = 2048


def load_cover(track: Track) -> Image.Image | None:
    """Return the track's cover decoded as RGB, or None (no cover, or not an image)."""
    if (cover := track_cover(track)) is None:
        return None
    try:
        with Image.open(BytesIO(cover[0])) as image:
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            rgb: Image.Image = image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        _LOGGER.debug("Cover of %s is not an image: %s", track.path, err)
        return None
    return rgb


class ArtworkPublisher:
    """Shows the current track's cover on one player's screen (cleared when it has none)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, name: str) -> None:
        self._hass, self._entry, self._name = hass, entry, name
        # What the player's group was last given (a new group after a reconnect is given it again).
        self._shown: tuple[ArtworkGroupRole, str | None] | None = None
        self._task: asyncio.Task[None] | None = None

    @callback
    def show(self, client: SendspinClient, track: Track | None, at_us: int | None = None) -> None:
        """Show `track`'s cover from server time `at_us` (None: now); the same track is a no-op."""
        role = client.group.group_role("artwork")
        if not isinstance(role, ArtworkGroupRole):
            return
        shown = (role, None if track is None else track.id)
        if self._shown is not None and self._shown[0] is role and self._shown[1] == shown[1]:
            return
        self._shown = shown
        if self._task is not None:
            self._task.cancel()  # a newer track wins over a cover still being read
        self._task = self._entry.async_create_background_task(
            self._hass, self._async_show(role, track, at_us), f"sendspin artwork {self._name}"
        )

    async def _async_show(
        self, role: ArtworkGroupRole, track: Track | None, at_us: int | None
    ) -> None:
        image = None
        if track is not None:
            image = await self._hass.async_add_executor_job(load_cover, track)
        await role.set_album_artwork(image, timestamp_us=at_us)

    @callback
    def forget(self) -> None:
        """Stop what is being sent; the next `show` sends again (the player left)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._shown = None
