"""The media_player platform: the box's player, and one player per sync room."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .box import OpenMusicBoxConfigEntry
from .box_media_player import MusicBoxMediaPlayer
from .room_media_player import RoomMediaPlayer

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OpenMusicBoxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the box's media player, and each room's under its subentry."""
    box = entry.runtime_data
    async_add_entities([MusicBoxMediaPlayer(box)])
    for room_id, room in box.rooms.items():
        async_add_entities([RoomMediaPlayer(box, room)], config_subentry_id=room_id)
