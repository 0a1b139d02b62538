"""The satellites of a room: joining, seats, leaving, removal and the zombie sweep.

A mixin of Room (its satellites are members of its coordinator). Seats are limited: at most
MAX_ROOM_MEMBERS members in a room and, per non-admin user, the box's option `members_per_user`
(default MAX_MEMBERS_PER_USER) satellites and Listen here players; a full room gives the seat of a
disconnected satellite to a newcomer rather than keeping it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any
import uuid

from homeassistant.components.http.auth import async_sign_path
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError

from ..const import (
    CONF_MEMBERS_PER_USER,
    CONF_ROOM_SATELLITE_OFFSETS,
    DOMAIN,
    MAX_MEMBERS_PER_USER,
    MAX_ROOM_MEMBERS,
)
from ..models import Track
from .coordinator import Coordinator
from .satellite_member import SatelliteMember, Sender
from .timeline import server_time

if TYPE_CHECKING:
    from .room_parts import RoomParts

_LOGGER = logging.getLogger(__name__)

SATELLITE_URL_LIFETIME = timedelta(hours=24)


def room_error(key: str, **placeholders: str) -> ServiceValidationError:
    """Return a translated error about rooms and their members."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def require_room[R](rooms: Mapping[str, R], room_id: str) -> R:
    """Return a room of the box; raise room_not_found."""
    if (room := rooms.get(room_id)) is None:
        raise room_error("room_not_found", room_id=room_id[:64])
    return room


class RoomSatellites:
    """The satellite side of a Room."""

    hass: HomeAssistant
    parts: RoomParts
    name: str
    config: Mapping[str, Any]
    coordinator: Coordinator

    def satellites(self) -> list[SatelliteMember]:
        """Return the satellites of the room (connected or waiting to rejoin)."""
        return [m for m in self.coordinator.members.values() if isinstance(m, SatelliteMember)]

    async def async_join_satellite(
        self,
        member_id: str | None,
        name: str,
        offset_ms: float,
        user_id: str | None,
        send: Sender,
        *,
        admin: bool = False,
    ) -> tuple[SatelliteMember, bool]:
        """Join (or rejoin within REJOIN_SECONDS) a satellite; return it and whether it rejoined.

        A new member needs a seat: see async_free_seat. An offset set from the panel for
        this member id wins over the satellite's own.
        """
        offset_ms = self.config.get(CONF_ROOM_SATELLITE_OFFSETS, {}).get(member_id, offset_ms)
        member = self.coordinator.members.get(member_id or "")
        if isinstance(member, SatelliteMember) and member.user_id == user_id:
            if member.available:
                member.send({"type": "closed", "reason": "replaced"})
            member.name, member.offset = name, offset_ms / 1000
            member.connect(send)
            self.send_state(member)
            self.coordinator.connected(member)
            return member, True
        await self.async_free_seat(user_id, admin)
        new_id = member_id if member is None and member_id else uuid.uuid4().hex  # reboot: same id
        member = SatelliteMember(new_id, name, offset_ms, self.satellite_url, user_id)
        member.connect(send)
        self.send_state(member)
        await self.coordinator.async_add(member)
        return member, False

    def send_state(self, member: SatelliteMember) -> None:
        """Tell a satellite the room's volume and timeline (right after it joins)."""
        timeline = self.coordinator.timeline
        track = self.coordinator.track
        member.send(
            {
                "type": "state",
                "member_id": member.member_id,
                "volume": self.coordinator.volume,
                "muted": self.coordinator.muted,
                "timeline": {
                    **timeline.shifted(member.offset).as_dict(),
                    "url": None if track is None else self.satellite_url(track),
                },
            }
        )

    def satellite(self, member_id: str) -> SatelliteMember:
        """Return a satellite of the room; raise member_not_found."""
        member = self.coordinator.members.get(member_id)
        if not isinstance(member, SatelliteMember):
            raise room_error("member_not_found", member_id=member_id[:64])
        return member

    @callback
    def satellite_disconnected(self, member: SatelliteMember, send: Sender) -> None:
        """Keep a satellite whose connection closed in its place, shown unavailable meanwhile."""
        member.disconnect(send)
        self.coordinator.notify()  # the room entity and the box's subscribers show it

    def members_per_user(self) -> int:
        """Return how many members one non-admin user may join to the room (the box's option)."""
        return int(self.parts.entry.options.get(CONF_MEMBERS_PER_USER, MAX_MEMBERS_PER_USER))

    async def async_free_seat(self, user_id: str | None, admin: bool) -> None:
        """Make room for a new member `user_id` joins, or raise room_full / room_user_full.

        Satellites that left without a word never held a seat. A full room (or a non-admin
        user with members_per_user members) gives the seat of the satellite disconnected the
        longest to the newcomer instead of keeping it for REJOIN_SECONDS.
        """
        for member in self.satellites():
            if member.disconnected_at is not None and not member.heard:
                await self._async_drop(member, "dropped")
        if not admin:
            limit = self.members_per_user()
            own = [m for m in self.coordinator.members.values() if m.user_id == user_id]
            satellites = [m for m in own if isinstance(m, SatelliteMember)]
            if len(own) >= limit and not await self._async_drop_oldest_gone(satellites):
                raise room_error("room_user_full", room=self.name, limit=str(limit))
        if len(self.coordinator.members) >= MAX_ROOM_MEMBERS and not (
            await self._async_drop_oldest_gone(self.satellites())
        ):
            raise room_error("room_full", room=self.name, limit=str(MAX_ROOM_MEMBERS))

    async def _async_drop_oldest_gone(self, members: list[SatelliteMember]) -> bool:
        gone = [member for member in members if member.disconnected_at is not None]
        if not gone:
            return False
        await self._async_drop(min(gone, key=lambda m: m.disconnected_at or 0.0), "dropped")
        return True

    async def _async_drop(self, member: SatelliteMember, reason: str) -> None:
        """Tell a satellite it is no longer a member, and release it."""
        member.send({"type": "closed", "reason": reason})
        member.disconnect()
        await self.coordinator.async_remove(member.member_id)

    async def async_leave(self, member_id: str) -> None:
        """Remove a satellite that leaves for good."""
        await self._async_drop(self.satellite(member_id), "left")

    async def async_remove_member(self, member_id: str) -> None:
        """Remove a satellite (its controller's or an admin's decision): it stops for good.

        Local devices and media players belong to the room's settings: they are not removed here.
        """
        member = self.coordinator.members.get(member_id)
        if member is None:
            raise room_error("member_not_found", member_id=member_id[:64])
        if not isinstance(member, SatelliteMember):
            raise room_error("member_not_removable", member_id=member_id[:64], room=self.name)
        await self._async_drop(member, "removed")

    def satellite_url(self, track: Track) -> str:
        """Return a signed path to the track (the satellite prefixes its HA URL)."""
        if track.is_url:
            return track.path
        return async_sign_path(
            self.hass,
            self.parts.media_path(track),
            SATELLITE_URL_LIFETIME,
            use_content_user=True,
        )

    async def _sweep(self, _now: datetime) -> None:
        """Drop satellites gone for REJOIN_SECONDS and connected ones silent for as long."""
        now = server_time()
        for member in self.satellites():
            if member.expired(now):
                _LOGGER.info("Room %s: dropping satellite %s", self.name, member.name)
                await self._async_drop(member, "dropped")
