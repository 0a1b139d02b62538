"""Wiring of the children's parts into a box: each part gets only what it works with.

The box is seen through `WiredBox`, the few of its parts the wiring hands on (box.py is not
imported: the box builds its children's parts, they do not reach back into it).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..const import (
    CONF_AUDIO_DEVICE,
    CONF_OUTPUT,
    CONF_ROOM_LOCAL_DEVICES,
    CONF_TARGET_ENTITY,
    OUTPUT_MPV,
)
from ..events import EventLog
from ..playback.player import Player, PlayState
from ..storage import BoxStore, StoredBedtime, StoredRoomBedtime
from ..sync.room import Room
from .bedtime import Bedtime, BedtimeLinks
from .bedtime_playlists import BedtimePlaylists
from .chime import Chime, ChimeTarget
from .daily_limit import DailyLimit, DailyLimitLinks
from .guard import GuardLinks
from .room_bedtime import RoomBedtime
from .sleep_timer import SleepTimer


class WiredBox(Protocol):
    """The parts of a box (the MusicBox) that the wiring hands to the children's parts."""

    hass: HomeAssistant
    entry: ConfigEntry
    store: BoxStore
    player: Player
    sleep_timer: SleepTimer
    events: EventLog
    rooms: dict[str, Room]
    bedtime_playlists: BedtimePlaylists
    daily_limit: DailyLimit
    bedtime: Bedtime
    room_bedtimes: dict[str, RoomBedtime]
    chime: Chime

    def async_apply_volume_limits(self) -> Coroutine[Any, Any, None]:
        """Apply the maximum and the floor to the box and its rooms."""


def daily_limit_links(box: WiredBox) -> DailyLimitLinks:
    """Return what the daily limit of the box works with."""
    return DailyLimitLinks(
        entry=box.entry, store=box.store, player=box.player, fire=box.events.fire
    )


def box_bedtime(box: WiredBox) -> Bedtime:
    """Return the box's bedtime (its state stored under "bedtime")."""
    store = box.store

    def write(data: dict[str, Any]) -> None:
        store.data["bedtime"] = cast("StoredBedtime", data)
        store.schedule_save()

    return Bedtime(
        box.hass,
        BedtimeLinks(
            entry=box.entry,
            load=lambda: store.data.get("bedtime"),
            write=write,
            player=box.player,
            sleep_timer=box.sleep_timer,
            fire=box.events.fire,
            apply_volume=box.async_apply_volume_limits,
            is_bedtime_playlist=box.bedtime_playlists.__contains__,
            event_data={"room_id": None},
        ),
    )


def room_bedtimes(box: WiredBox) -> dict[str, RoomBedtime]:
    """Return a bedtime for each room (the stored ones of removed rooms are dropped)."""
    store = box.store
    stored = store.data.setdefault("room_bedtimes", {})
    for room_id in stored.keys() - box.rooms.keys():
        del stored[room_id]

    def links(room_id: str, player: Player) -> BedtimeLinks:
        def write(data: dict[str, Any]) -> None:
            stored[room_id] = cast("StoredRoomBedtime", data)
            store.schedule_save()

        return BedtimeLinks(
            entry=box.entry,
            load=lambda: cast("dict[str, Any] | None", stored.get(room_id)),
            write=write,
            player=player,
            sleep_timer=SleepTimer(box.hass, player),
            fire=box.events.fire,
            apply_volume=box.async_apply_volume_limits,
            is_bedtime_playlist=box.bedtime_playlists.__contains__,
            event_data={"room_id": room_id},
        )

    return {
        room_id: RoomBedtime(box.hass, links(room_id, room.player))
        for room_id, room in box.rooms.items()
    }


def chime_target(box: WiredBox, room_id: str | None) -> ChimeTarget:
    """Return where a refusal chimes (the box's output or the room's local devices), how loud."""
    room = box.rooms.get(room_id) if room_id is not None else None
    entity_id: str | None = None
    if room is None:
        player = box.player
        devices: list[str] = []
        if box.entry.data[CONF_OUTPUT] == OUTPUT_MPV:
            devices = [box.entry.data[CONF_AUDIO_DEVICE]]
        elif player.state is PlayState.IDLE:
            # Only while the box holds nothing: a paused box's output follows the target.
            entity_id = box.entry.data[CONF_TARGET_ENTITY]
    else:
        player = room.player
        devices = [item[CONF_AUDIO_DEVICE] for item in room.config.get(CONF_ROOM_LOCAL_DEVICES, [])]
    # As loud as the box would play now (its maximum and floor applied); muted: silent.
    return ChimeTarget(devices, 0.0 if player.muted else player.volume, entity_id)


def guard_links(box: WiredBox) -> GuardLinks:
    """Return what the guard of the box works with."""
    return GuardLinks(
        entry=box.entry,
        limit=box.daily_limit,
        bedtime=box.bedtime,
        room_bedtime=box.room_bedtimes.get,  # the dict is filled in place at setup
        fire=box.events.fire,
        box_device_id=lambda: box.events.device_id,
        chime=box.chime,
        chime_target=lambda room_id: chime_target(box, room_id),
    )
