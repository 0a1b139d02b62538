"""A Sendspin player joining a room for itself (a browser's "Listen here"), not stored.

It connected through the authenticated endpoint; any logged-in user may listen to a room, as
with satellites. It is a member until its connection ends: leaving the page leaves the room.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback

from ..sync.member import Member
from ..sync.room import Room
from ..sync.room_satellites import room_error
from ..sync.sendspin_member import SendspinMember


async def async_join_room(
    hass: HomeAssistant, room: Room, client_id: str, user_id: str | None, admin: bool
) -> str:
    """Make the connected player `client_id` a member of `room`; return its member id.

    It takes one of `user_id`'s seats, as a satellite does: a non-admin user cannot fill the
    room with players of their own.
    """
    box = room.parts  # the box's Sendspin server and entry
    client = box.sendspin.client(client_id)
    if client is None or not client.is_connected:
        raise room_error("member_not_found", member_id=client_id)
    coordinator = room.coordinator
    member_id = f"sendspin:{client_id}"
    if member_id in coordinator.members:
        return member_id
    await room.async_free_seat(user_id, admin)

    @callback
    def leave(member: Member) -> None:
        if coordinator.members.get(member.member_id) is member:
            box.entry.async_create_background_task(
                hass, coordinator.async_remove(member.member_id), f"sendspin leave {member.name}"
            )

    member = SendspinMember(
        hass,
        box.entry,
        box.sendspin,
        client_id,
        offset_ms=0.0,
        rejoin=coordinator.connected,
        leave=leave,
    )
    member.user_id = user_id
    await coordinator.async_add(member)
    return member_id
