"""A sync room as a media_player: the box's player features, plus grouping.

`group_members` lists the Home Assistant players in the room; `media_player.join` adds players
and `media_player.unjoin` on the room removes them all (satellites and local devices are not
entities; they show in the room's attributes and diagnostics). Who may control the room is a
room setting; every command checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from homeassistant.components.media_player import MediaPlayerEntityFeature
from homeassistant.helpers.device_registry import DeviceInfo

from .box import MusicBox
from .box_media_player import FEATURES, MusicBoxMediaPlayer
from .devices import MODEL_ROOM, suggested_area
from .sync.room import Room


class RoomMediaPlayer(MusicBoxMediaPlayer):
    """The media player of one sync room."""

    _attr_supported_features = FEATURES | MediaPlayerEntityFeature.GROUPING

    def __init__(self, box: MusicBox, room: Room) -> None:
        """Initialize the room media player."""
        super().__init__(box, room.player)
        self._room = room
        self._attr_unique_id = room.room_id
        self._attr_device_info = room.device_info | DeviceInfo(
            model=box.models[MODEL_ROOM], suggested_area=suggested_area(box.hass, room.name)
        )

    async def async_added_to_hass(self) -> None:
        """Follow the membership too."""
        await super().async_added_to_hass()
        self.async_on_remove(self._room.coordinator.async_add_listener(self._changed))

    @property
    def available(self) -> bool:
        """A room plays as long as the library is there (members come and go)."""
        return self._box.catalog.available

    @property
    def group_members(self) -> list[str]:
        """Return the Home Assistant players of the room."""
        return self._room.entity_members

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Show every member (satellites and local devices are not entities) and the room id."""
        summary = self._room.summary()
        return {
            **super().extra_state_attributes,
            "room_id": summary["room_id"],
            "members": summary["members"],
        }

    def _check_control(self) -> None:
        """Only the users the room lists may control it (when it lists any)."""
        self._room.check_control(self._context)

    async def _async_play_playlist(self, playlist_id: str) -> None:
        await self._box.async_play_playlist(playlist_id, player=self._player)

    async def async_join_players(self, group_members: list[str]) -> None:
        """Add media players to the room."""
        self._check_control()
        own = {self.entity_id}
        await self._room.async_join([eid for eid in group_members if eid not in own])

    async def async_unjoin_player(self) -> None:
        """Remove every media player from the room."""
        self._check_control()
        await self._room.async_unjoin()


# What a room's action changed (volume, mute, shuffle, repeat, queue) is on disk before the action
# is answered: a kill -9 right after the answer loses nothing. HA calls a single entity's method
# directly (no hook around it), so each action is wrapped.
_DURABLE_ACTIONS = (
    "async_media_play",
    "async_media_pause",
    "async_media_stop",
    "async_media_next_track",
    "async_media_previous_track",
    "async_media_seek",
    "async_set_volume_level",
    "async_mute_volume",
    "async_set_shuffle",
    "async_set_repeat",
    "async_clear_playlist",
    "async_play_media",
    "async_join_players",
    "async_unjoin_player",
)


def _answered_once_saved(name: str) -> Callable[..., Coroutine[Any, Any, None]]:
    run = getattr(RoomMediaPlayer, name)  # the room's own, or the box player's

    async def action(self: RoomMediaPlayer, *args: Any, **kwargs: Any) -> None:
        await run(self, *args, **kwargs)
        await self._room.async_saved()

    action.__name__ = action.__qualname__ = name
    action.__doc__ = f"{name}, answered once what it changed is written."
    return action


for _name in _DURABLE_ACTIONS:
    setattr(RoomMediaPlayer, _name, _answered_once_saved(_name))
