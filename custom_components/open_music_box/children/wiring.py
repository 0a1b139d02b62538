"""Wiring of the children's parts into a box: each part gets only what it works with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ..const import (
    CONF_AUDIO_DEVICE,
    CONF_OUTPUT,
    CONF_ROOM_LOCAL_DEVICES,
    CONF_TARGET_ENTITY,
    OUTPUT_MPV,
)
from ..playback.player import Player, PlayState
from ..storage import StoredBedtime, StoredRoomBedtime
from .bedtime import Bedtime, BedtimeLinks
from .chime import ChimeTarget
from .guard import GuardLinks
from .room_bedtime import RoomBedtime
from .sleep_timer import SleepTimer

if TYPE_CHECKING:
    from ..box import MusicBox


def box_bedtime(box: MusicBox) -> Bedtime:
    """Return the box's bedtime (its state stored under "bedtime")."""
    store = box.store

    def write(data: dict[str, Any]) -> None:
        store.data["bedtime"] = cast(StoredBedtime, data)
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


def room_bedtimes(box: MusicBox) -> dict[str, RoomBedtime]:
    """Return a bedtime for each room (the stored ones of removed rooms are dropped)."""
    store = box.store
    stored = store.data.setdefault("room_bedtimes", {})
    for room_id in stored.keys() - box.rooms.keys():
        del stored[room_id]

    def links(room_id: str, player: Player) -> BedtimeLinks:
        def write(data: dict[str, Any]) -> None:
            stored[room_id] = cast(StoredRoomBedtime, data)
            store.schedule_save()

        return BedtimeLinks(
            entry=box.entry,
            load=lambda: cast(dict[str, Any] | None, stored.get(room_id)),
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


def chime_target(box: MusicBox, room_id: str | None) -> ChimeTarget:
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


def guard_links(box: MusicBox) -> GuardLinks:
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
