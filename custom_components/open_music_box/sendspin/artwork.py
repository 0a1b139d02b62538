"""The pictures a Sendspin player with a screen shows: the current track's cover and artist.

A player asks for up to 4 artwork channels, each with its source: `album` or `artist`.
aiosendspin's artwork group role keeps one image per source, resizes and encodes it for each
channel asking for that source (format and size, in a worker thread) and sends it again when
the player's artwork role joins; here both are found and decoded (in the executor) when the
track changes.

The artist channel gets the artist's own picture (embedded in the file, else `artist.jpg`…
from the track's folder up to the library's), else it is cleared: it never repeats the cover.
The spec makes the channels independent pictures (a screen showing "album artwork on one
channel while simultaneously showing artist photos" on another), and Music Assistant's
Sendspin player clears the artist channel when the artist has no image; a screen with both
channels would otherwise show the cover twice.
"""

from __future__ import annotations

import asyncio
from io import BytesIO
import logging
from pathlib import Path

from aiosendspin.server import SendspinClient
from aiosendspin.server.roles.artwork.group import ArtworkGroupRole
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from PIL import Image

from ..const import CONF_LIBRARY_PATH
from ..library.covers import artist_picture, track_cover
from ..models import Track

_LOGGER = logging.getLogger(__name__)

# Larger covers are scaled down once here: players' screens are small, and the group role
# copies the image for each channel it encodes.
MAX_SIDE = 2048


def _decode(found: tuple[bytes, str] | None, what: str, track: Track) -> Image.Image | None:
    """Return the image decoded as RGB, or None (none found, or not an image)."""
    if found is None:
        return None
    try:
        with Image.open(BytesIO(found[0])) as image:
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            rgb: Image.Image = image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        _LOGGER.debug("%s of %s is not an image: %s", what, track.path, err)
        return None
    return rgb


def load_artwork(track: Track, root: Path | None) -> tuple[Image.Image | None, Image.Image | None]:
    """Return the track's (cover, artist picture), each decoded or None. Reads the disk."""
    cover = _decode(track_cover(track), "Cover", track)
    return cover, _decode(artist_picture(track, root), "Artist picture", track)


class ArtworkPublisher:
    """Shows the current track's cover and artist on one player's screen (cleared: none)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, name: str) -> None:
        """Initialize the artwork publisher."""
        self._hass, self._entry, self._name = hass, entry, name
        library = entry.data.get(CONF_LIBRARY_PATH)
        self._root = Path(library) if library else None
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
        cover = artist = None
        if track is not None:
            cover, artist = await self._hass.async_add_executor_job(load_artwork, track, self._root)
        await role.set_album_artwork(cover, timestamp_us=at_us)
        await role.set_artist_artwork(artist, timestamp_us=at_us)

    @callback
    def forget(self) -> None:
        """Stop what is being sent; the next `show` sends again (the player left)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._shown = None
