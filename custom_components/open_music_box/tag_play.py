"""What the scan of a linked tag does: play its playlist on the box or its room."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from homeassistant.exceptions import HomeAssistantError

from .const import (
    CONF_SAME_TAG_ACTION,
    DEFAULT_SAME_TAG_ACTION,
    SAME_TAG_IGNORE,
    SAME_TAG_TOGGLE,
)
from .playback.player import PlayState
from .storage import StoredTagLink
from .tag_model import TARGET_BOX, redacted

if TYPE_CHECKING:
    from .box import MusicBox

_LOGGER = logging.getLogger(__name__)


def link_room(link: StoredTagLink, reader_room: str | None) -> str | None:
    """Return the room a tag plays in: the link's room, else the reader's; None: the box."""
    target = link["target"]
    if target == TARGET_BOX:
        return reader_room
    return target


async def async_play_link(
    box: MusicBox, tag_id: str, link: StoredTagLink, reader_room: str | None = None
) -> None:
    """Play the tag's playlist on its target; the same tag again does what the option says.

    A link to the box plays in the room of the reader (children/readers.py); a link to a room
    plays there.
    """
    player = box.player
    if (target := link_room(link, reader_room)) is not None:
        if (room := box.rooms.get(target)) is None:
            _LOGGER.warning("The room of tag %s was removed", redacted(tag_id))
            return
        player = room.player
    playlist_id = link["playlist_id"]
    same = player.playlist_id == playlist_id and player.state is not PlayState.IDLE
    if same:
        action = box.entry.options.get(CONF_SAME_TAG_ACTION, DEFAULT_SAME_TAG_ACTION)
        if action == SAME_TAG_IGNORE:
            return
        if action == SAME_TAG_TOGGLE:
            await player.async_toggle()
            return
    start = link.get("start_track_id")
    playlist = box.catalog.playlist(playlist_id)
    if start is not None and (playlist is None or start not in playlist.track_ids):
        _LOGGER.warning("The start track of a tag's link is gone; playing from the start")
        start = None
    try:
        # "restart" really starts over, even an audiobook (it does not resume).
        await box.async_play_playlist(
            playlist_id, start, link.get("shuffle"), resume=not same, player=player
        )
    except HomeAssistantError as err:
        _LOGGER.warning("Cannot play the playlist of tag %s: %s", redacted(tag_id), err)
