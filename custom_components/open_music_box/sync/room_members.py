"""The panel's operations on a room's members (rows of the table in api/operations.py).

Local devices, media players and Sendspin players belong to the room's subentry: adding, removing
or moving one changes the subentry through HA's config entries (as the room form does, with the
form's rules), and the room applies it without a reload. Satellites and Sendspin players that
joined for themselves (a browser's "Listen here") are not stored: removing one drops it from the
room. A satellite's offset set here is stored by its member id and wins over its own when it joins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.helpers import entity_registry as er

from ..const import (
    CONF_AUDIO_DEVICE,
    CONF_CLIENT_ID,
    CONF_ENTITY_ID,
    CONF_OFFSET_MS,
    CONF_ROOM_ENTITY_MEMBERS,
    CONF_ROOM_LOCAL_DEVICES,
    CONF_ROOM_SATELLITE_OFFSETS,
    CONF_ROOM_SENDSPIN_PLAYERS,
    MAX_ROOM_MEMBERS,
    MAX_SATELLITE_OFFSETS,
)
from ..devices import check_entity_member, own_media_players
from ..playback import mpv_loader
from .room_satellites import room_error
from .satellite_member import SatelliteMember
from .sendspin_member import SendspinMember

if TYPE_CHECKING:
    from ..api.operation import Call
    from .room import Room

KIND_LOCAL: Final = "local"
KIND_ENTITY: Final = "entity"
KIND_SENDSPIN: Final = "sendspin"
# kind -> (the subentry's list, the key of a member's id in it); member ids are "<kind>:<id>".
SECTIONS: Final = {
    KIND_LOCAL: (CONF_ROOM_LOCAL_DEVICES, CONF_AUDIO_DEVICE),
    KIND_ENTITY: (CONF_ROOM_ENTITY_MEMBERS, CONF_ENTITY_ID),
    KIND_SENDSPIN: (CONF_ROOM_SENDSPIN_PLAYERS, CONF_CLIENT_ID),
}


def _room(call: Call) -> Room:
    room_id = call.data["room_id"]
    room = call.box.rooms.get(room_id)
    if room is None:
        raise room_error("room_not_found", room_id=room_id[:64])
    return room


def _split(room: Room, member_id: str) -> tuple[str, str]:
    """Return (kind, id) of a member kept in the subentry; raise member_not_found."""
    kind, _, own_id = member_id.partition(":")
    section = SECTIONS.get(kind)
    items = room.config.get(section[0], []) if section is not None else []
    if section is None or not any(item[section[1]] == own_id for item in items):
        raise room_error("member_not_found", member_id=member_id[:64])
    return kind, own_id


async def _audio_devices(call: Call) -> dict[str, str]:
    """Return mpv's audio devices, by name (none without libmpv); blocking: the executor."""
    return await mpv_loader.AudioDeviceProbe().async_probe(call.box.hass) or {}


async def room_candidates(call: Call) -> dict[str, Any]:
    """List what may join the room: mpv's devices, HA's media players, Sendspin players."""
    room = _room(call)
    members = room.coordinator.members
    devices = mpv_loader.device_labels(await _audio_devices(call))
    own = set(own_media_players(er.async_get(call.box.hass)))
    players = [
        (state.entity_id, state.name)
        for state in call.box.hass.states.async_all("media_player")
        if state.entity_id not in own
    ]

    def offer(kind: str, found: list[tuple[str, str]]) -> list[dict[str, str]]:
        return [
            {"id": own_id, "name": name}
            for own_id, name in found
            if f"{kind}:{own_id}" not in members
        ]

    return {
        KIND_LOCAL: offer(KIND_LOCAL, list(devices.items())),
        KIND_ENTITY: offer(KIND_ENTITY, sorted(players, key=lambda p: p[1].casefold())),
        KIND_SENDSPIN: offer(KIND_SENDSPIN, list(call.box.sendspin.players().items())),
    }


async def _known(call: Call, kind: str, own_id: str) -> str:
    """Return the member's id (an entity id resolved) once the room form's rules allow it."""
    if kind == KIND_ENTITY:
        registry = er.async_get(call.box.hass)
        own = own_media_players(registry)
        entity_id, problem = check_entity_member(call.box.hass, registry, own_id, own, [])
        if problem == "entity_is_music_box":
            raise room_error("cannot_join_own_player", entity_id=own_id[:64])
        known = problem is None
        own_id = entity_id
    elif kind == KIND_LOCAL:
        known = own_id in await _audio_devices(call)
    else:
        known = own_id in call.box.sendspin.players()
    if not known:
        raise room_error("room_member_unknown", member=own_id[:64])
    return own_id


async def room_add_member(call: Call) -> dict[str, Any]:
    """Add a local device, a media player or a Sendspin player to the room's settings."""
    room, kind = _room(call), call.data["kind"]
    own_id = await _known(call, kind, call.data["member"])
    section, key = SECTIONS[kind]
    items = list(room.config.get(section, []))
    if not any(item[key] == own_id for item in items):
        if len(room.coordinator.members) >= MAX_ROOM_MEMBERS:
            raise room_error("room_full", room=room.name, limit=str(MAX_ROOM_MEMBERS))
        items.append({key: own_id, CONF_OFFSET_MS: float(call.data.get("offset_ms", 0.0))})
        await room.async_store_config({**room.config, section: items})
    return {"member_id": f"{kind}:{own_id}"}


def _satellite_offsets(room: Room, member_id: str, offset_ms: float | None) -> dict[str, Any]:
    """Return the room's settings with a satellite's stored offset set (None: forgotten)."""
    offsets = dict(room.config.get(CONF_ROOM_SATELLITE_OFFSETS, {}))
    offsets.pop(member_id, None)
    if offset_ms is not None:
        offsets[member_id] = offset_ms
        offsets = dict(list(offsets.items())[-MAX_SATELLITE_OFFSETS:])
    return {**room.config, CONF_ROOM_SATELLITE_OFFSETS: offsets}


async def room_remove_member(call: Call) -> None:
    """Remove a member: from the room's settings, or (joined for itself) from the room."""
    room, member_id = _room(call), call.data["member_id"]
    member = room.coordinator.members.get(member_id)
    if isinstance(member, SatelliteMember):
        await room.async_remove_member(member_id)
        if member_id in room.config.get(CONF_ROOM_SATELLITE_OFFSETS, {}):
            await room.async_store_config(_satellite_offsets(room, member_id, None))
        return
    if isinstance(member, SendspinMember) and member.temporary:
        await room.coordinator.async_remove(member_id)  # its stream ends; it may join again
        room.publish_status()
        return
    kind, own_id = _split(room, member_id)
    section, key = SECTIONS[kind]
    items = [item for item in room.config.get(section, []) if item[key] != own_id]
    await room.async_store_config({**room.config, section: items})


async def room_set_offset(call: Call) -> None:
    """Set a member's latency offset (ms), stored in the room's settings (a satellite's by id)."""
    room, member_id, offset = _room(call), call.data["member_id"], float(call.data["offset_ms"])
    member = room.coordinator.members.get(member_id)
    if isinstance(member, SatelliteMember):
        member.offset = offset / 1000  # the corrections move it there
        await room.async_store_config(_satellite_offsets(room, member_id, offset))
        return
    if isinstance(member, SendspinMember) and member.temporary:  # joined for itself: not stored
        member.offset = offset / 1000  # used from the room's next start or seek
        room.publish_status()
        return
    kind, own_id = _split(room, member_id)
    section, key = SECTIONS[kind]
    items = [
        {**item, CONF_OFFSET_MS: offset} if item[key] == own_id else item
        for item in room.config.get(section, [])
    ]
    await room.async_store_config({**room.config, section: items})
