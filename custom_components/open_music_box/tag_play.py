"""What the scan of a linked tag does: play its playlist on the box or its room."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import TYPE_CHECKING, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.exceptions import HomeAssistantError

from .const import (
    CONF_SAME_TAG_ACTION,
    DEFAULT_SAME_TAG_ACTION,
    SAME_TAG_IGNORE,
    SAME_TAG_TOGGLE,
)
from .playback.player import Player, PlayState
from .storage import StoredTagLink
from .sync.room import require_room
from .tag_model import TARGET_BOX, redacted

if TYPE_CHECKING:
    from .catalog import Catalog
    from .sync.room import Room

_LOGGER = logging.getLogger(__name__)


def link_room(link: StoredTagLink, reader_room: str | None) -> str | None:
    """Return the room a tag plays in: the link's room, else the reader's; None: the box."""
    target = link["target"]
    if target == TARGET_BOX:
        return reader_room
    return target


class PlayPlaylist(Protocol):
    """The box's way to start a playlist on one of its players (resume, shuffle, start track)."""

    async def __call__(
        self,
        playlist_id: str,
        start_track_id: str | None,
        shuffle: bool | None,
        *,
        resume: bool,
        player: Player,
    ) -> None:
        """Start the playlist on `player`."""


class LinkPlayer:
    """The players a tag's link can start: the box's and its rooms'."""

    def __init__(
        self,
        entry: ConfigEntry,
        catalog: Catalog,
        player: Player,
        rooms: Mapping[str, Room],
        play_playlist: PlayPlaylist,
    ) -> None:
        """Initialize the link player."""
        self._entry = entry
        self._catalog = catalog
        self._player = player
        self._rooms = rooms
        self._play_playlist = play_playlist

    def require_room(self, room_id: str) -> None:
        """Raise the translated room_not_found unless the box has this room."""
        require_room(self._rooms, room_id)

    async def async_play(
        self, tag_id: str, link: StoredTagLink, reader_room: str | None = None
    ) -> None:
        """Play the tag's playlist on its target; the same tag again does what the option says.

        A link to the box plays in the room of the reader (children/readers.py); a link to a room
        plays there.
        """
        player = self._player
        if (target := link_room(link, reader_room)) is not None:
            if (room := self._rooms.get(target)) is None:
                _LOGGER.warning("The room of tag %s was removed", redacted(tag_id))
                return
            player = room.player
        playlist_id = link["playlist_id"]
        same = player.playlist_id == playlist_id and player.state is not PlayState.IDLE
        if same:
            action = self._entry.options.get(CONF_SAME_TAG_ACTION, DEFAULT_SAME_TAG_ACTION)
            if action == SAME_TAG_IGNORE:
                return
            if action == SAME_TAG_TOGGLE:
                await player.async_toggle()
                return
        start = link.get("start_track_id")
        playlist = self._catalog.playlist(playlist_id)
        if start is not None and (playlist is None or start not in playlist.track_ids):
            _LOGGER.warning("The start track of a tag's link is gone; playing from the start")
            start = None
        try:
            # "restart" really starts over, even an audiobook (it does not resume).
            await self._play_playlist(
                playlist_id, start, link.get("shuffle"), resume=not same, player=player
            )
        except HomeAssistantError as err:
            _LOGGER.warning("Cannot play the playlist of tag %s: %s", redacted(tag_id), err)
