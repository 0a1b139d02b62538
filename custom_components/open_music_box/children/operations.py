"""Handlers of the children's operations (rows of the table in api/operations.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .const import CONF_REFUSAL_SOUND, READER_BOX, READER_NONE
from .lock import locked
from .room_bedtime import ROOM_END, ROOM_START

if TYPE_CHECKING:
    from ..api.operation import Call


async def grant_extra_minutes(call: Call) -> dict[str, Any]:
    """Give the box extra listening minutes for today (a reached limit is lifted)."""
    call.box.daily_limit.grant(call.data["minutes"])
    return call.box.daily_limit.as_dict()


async def set_bedtime_playlist(call: Call) -> dict[str, Any]:
    """Mark a playlist as one a tag may start at bedtime, or not."""
    playlists = call.box.bedtime_playlists
    playlists.set(call.data["playlist_id"], call.data["bedtime"])
    return {"bedtime_playlists": playlists.playlists()}


def children_settings(call: Call) -> dict[str, Any]:
    """Return the children's settings and state of the box (the panel's Children view)."""
    box = call.box
    return {
        "refusal_sound": box.guard.refusal_sound,
        "locked": locked(box.entry),
        "daily_limit": box.daily_limit.as_dict(),
        "bedtime": box.bedtime.diagnostics(),
        "bedtime_playlists": box.bedtime_playlists.playlists(),
        "room_bedtimes": {
            room_id: bedtime.diagnostics() for room_id, bedtime in box.room_bedtimes.items()
        },
    }


async def get_children(call: Call) -> dict[str, Any]:
    """Return the children's settings and state."""
    return children_settings(call)


async def set_room_bedtime(call: Call) -> dict[str, Any]:
    """Turn a room's bedtime on or off, and/or change its start and end times."""
    room_id = call.data["room_id"]
    call.box.room(room_id)  # the translated room_not_found
    bedtime = call.box.room_bedtimes[room_id]
    for key in (ROOM_START, ROOM_END):
        if key in call.data:
            bedtime.set_time(key, call.data[key])
    if "active" in call.data:
        bedtime.set(call.data["active"], "action")
    return bedtime.diagnostics()


async def set_refusal_sound(call: Call) -> dict[str, Any]:
    """Choose what a refused tag sounds like ("chime" or "none"); an option of the box."""
    entry = call.box.entry
    options = {**entry.options, CONF_REFUSAL_SOUND: call.data[CONF_REFUSAL_SOUND]}
    call.box.hass.config_entries.async_update_entry(entry, options=options)
    return children_settings(call)


async def list_readers(call: Call) -> dict[str, Any]:
    """Return the readers heard (device names, assignments) and the rooms to assign them to."""
    box = call.box
    rooms = [
        {"room_id": room_id, "name": box.entry.subentries[room_id].title} for room_id in box.rooms
    ]
    return {"readers": box.readers.listing(), "rooms": rooms}


async def assign_reader(call: Call) -> dict[str, Any]:
    """Assign a reader to this box, one of its rooms or nothing (as the options flow does)."""
    assignment = call.data["assignment"]
    if assignment not in (READER_BOX, READER_NONE):
        call.box.room(assignment)  # the translated room_not_found
    call.box.readers.assign(call.data["device_id"], assignment)
    return await list_readers(call)
