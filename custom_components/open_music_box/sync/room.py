"""One sync room (a config subentry of a box): its player, its coordinator and its members.

The room's queue is a Player like the box's, with the coordinator as its output, so a room does
everything the box does. Its members come from three places: the subentry (local mpv devices and
HA media players, with their offsets), `media_player.join`/`unjoin` (which update the subentry),
and satellites that join over the WebSocket API (room_satellites.py). Where the room was is stored,
so a restart brings it back paused at that position.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components.media_player import RepeatMode
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_time_interval

from ..const import (
    CONF_AUDIO_DEVICE,
    CONF_CLIENT_ID,
    CONF_ENTITY_ID,
    CONF_OFFSET_MS,
    CONF_ROOM_CONTROL,
    CONF_ROOM_CONTROL_USERS,
    CONF_ROOM_ENTITY_MEMBERS,
    CONF_ROOM_LOCAL_DEVICES,
    CONF_ROOM_SENDSPIN_PLAYERS,
    DOMAIN,
    MAX_ROOM_MEMBERS,
    ROOM_CONTROL_USERS,
)
from ..events import player_dict, queue_ids, track_dict
from ..models import Track
from ..playback.player import Player, PlayerSettings, PlayState
from ..storage import StoredRoom, async_flush_config_entries
from .coordinator import Coordinator
from .entity_member import EntityMember
from .local_member import LocalMember
from .member import Member, MemberNotReady
from .room_output import RoomOutput
from .room_satellites import RoomSatellites, require_room, room_error
from .satellite_member import SatelliteMember
from .sendspin_member import SendspinMember
from .timeline import server_time

if TYPE_CHECKING:
    from .room_parts import RoomParts

_LOGGER = logging.getLogger(__name__)

__all__ = ["EVENT_ROOM_MEMBERS", "SWEEP_SECONDS", "Room", "require_room", "room_error"]

EVENT_ROOM_MEMBERS = f"{DOMAIN}_room_members"
SWEEP_SECONDS = 5.0
# The members' live status goes to the box's subscribers (never the bus) at most this often,
# and only when it changed: the coordinator measures every 250 ms.
STATUS_SECONDS = 1.0


class Room(RoomSatellites):
    """A room's player, coordinator and members."""

    def __init__(
        self,
        hass: HomeAssistant,
        parts: RoomParts,
        subentry: ConfigSubentry,
        settings: PlayerSettings,
    ) -> None:
        """Initialize the room."""
        self.hass = hass
        self.parts = parts
        self.room_id = subentry.subentry_id
        self.name = subentry.title
        self.config: Mapping[str, Any] = subentry.data
        self.coordinator = Coordinator(hass, f"Room {self.name}")
        self.output = RoomOutput(hass, self.coordinator)
        self.player = Player(hass, lambda: self.output, settings)
        self._unsubs: list[Callable[[], None]] = []
        self._member_ids: frozenset[str] = frozenset()
        self._published: dict[str, Any] | None = None
        self._published_queue: list[str] = []
        self._published_status: dict[str, Any] | None = None
        self._settled: dict[str, Any] | None = None  # the stored room but its position
        self._writing: asyncio.Task[None] | None = None  # the last settled change's write
        self._members_lock = asyncio.Lock()

    @property
    def device_info(self) -> DeviceInfo:
        """Return the room's device (under the box's)."""
        return DeviceInfo(
            identifiers={(DOMAIN, self.room_id)},
            name=self.name,
            manufacturer="Open Music Box",
            model="Sync room",
            via_device=(DOMAIN, self.parts.entry.entry_id),
        )

    # Life cycle -----------------------------------------------------------------

    async def async_start(self) -> None:
        """Open the configured members and come back where the room was."""
        await self.player.async_start()
        stored = self.parts.store.data.get("rooms", {}).get(self.room_id)
        if stored is not None:
            # The volume first: members joining keep their own volume's difference to it.
            await self.player.async_set_volume(stored["volume"])
            await self.player.async_set_mute(stored["muted"])
        await self._async_apply_members(self.config)
        if stored is not None:
            await self._async_restore(stored)
        self._unsubs.append(self.player.async_add_listener(self._save))
        self._unsubs.append(self.player.async_add_listener(self._publish))
        self._unsubs.append(self.coordinator.async_add_listener(self._publish))
        self._unsubs.append(self.player.async_add_skipped_listener(self._on_skipped))
        self._publish()
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self._sweep,
                timedelta(seconds=SWEEP_SECONDS),
                name=f"{DOMAIN} room {self.name} zombie sweep",
            )
        )
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self.publish_status,
                timedelta(seconds=STATUS_SECONDS),
                name=f"{DOMAIN} room {self.name} status",
            )
        )

    async def async_close(self, reason: str = "unloaded") -> None:
        """Tell satellites, release every member."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._save()
        if self.room_id not in self.parts.entry.subentries:
            reason = "room_removed"  # the reload after a deletion: satellites stop for good
            self.parts.store.data.get("rooms", {}).pop(self.room_id, None)
        for member in self.satellites():
            member.send({"type": "closed", "reason": reason})
        await self.player.async_close()
        await self.coordinator.async_close()

    async def async_apply_config(self, subentry: ConfigSubentry) -> None:
        """Apply a changed subentry (reconfigure, join, unjoin) without a reload."""
        if subentry.title != self.name:
            # A renamed room: its device (and so its entity's name) follows without a reload.
            registry = dr.async_get(self.hass)
            if device := registry.async_get_device(identifiers={(DOMAIN, self.room_id)}):
                registry.async_update_device(device.id, name=subentry.title)
        self.name = subentry.title
        self.config = subentry.data
        await self._async_apply_members(subentry.data)

    async def _async_apply_members(self, data: Mapping[str, Any]) -> None:
        # One at a time: a join applies its change and the update listener applies it again.
        async with self._members_lock:
            await self._async_apply_members_now(data)

    async def _async_apply_members_now(self, data: Mapping[str, Any]) -> None:
        wanted: dict[str, Member] = {}
        for item in data.get(CONF_ROOM_LOCAL_DEVICES, []):
            member: Member = LocalMember(self.hass, item[CONF_AUDIO_DEVICE], item[CONF_OFFSET_MS])
            wanted[member.member_id] = member
        for item in data.get(CONF_ROOM_ENTITY_MEMBERS, []):
            member = EntityMember(
                self.hass, item[CONF_ENTITY_ID], item[CONF_OFFSET_MS], self.parts.url_for
            )
            wanted[member.member_id] = member
        for item in data.get(CONF_ROOM_SENDSPIN_PLAYERS, []):
            member = SendspinMember(
                self.hass,
                self.parts.entry,
                self.parts.sendspin,
                item[CONF_CLIENT_ID],
                offset_ms=item[CONF_OFFSET_MS],
                rejoin=self.coordinator.connected,
            )
            wanted[member.member_id] = member
        current = {
            member_id: member
            for member_id, member in self.coordinator.members.items()
            if not isinstance(member, SatelliteMember)
            and not (isinstance(member, SendspinMember) and member.temporary)
        }
        for member_id in current.keys() - wanted.keys():
            await self.coordinator.async_remove(member_id)
        for member_id, member in wanted.items():
            if member_id in current:
                current[member_id].offset = member.offset  # a reconfigured offset
                continue
            try:
                await self.coordinator.async_add(member)
            except MemberNotReady as err:
                _LOGGER.warning("Room %s: cannot open %s: %s", self.name, member.name, err)

    # Control -----------------------------------------------------------------

    def check_control(self, context: Context | None, denied: str = "room_control_denied") -> None:
        """Raise `denied` unless the context's user may control the room (automations may)."""
        if self.config.get(CONF_ROOM_CONTROL) != ROOM_CONTROL_USERS:
            return
        user_id = context.user_id if context is not None else None
        if user_id is None or user_id in self.config.get(CONF_ROOM_CONTROL_USERS, []):
            return
        raise room_error(denied, room=self.name)

    @property
    def entity_members(self) -> list[str]:
        """Return the HA media players of the room."""
        return [item[CONF_ENTITY_ID] for item in self.config.get(CONF_ROOM_ENTITY_MEMBERS, [])]

    async def async_join(self, entity_ids: list[str]) -> None:
        """Add media players (media_player.join); stored in the subentry."""
        members = list(self.config.get(CONF_ROOM_ENTITY_MEMBERS, []))
        known = {item[CONF_ENTITY_ID] for item in members}
        added = [eid for eid in dict.fromkeys(entity_ids) if eid not in known]
        if not added:
            return
        registry = er.async_get(self.hass)
        for entity_id in added:
            entity = registry.async_get(entity_id)
            if entity is not None and entity.platform == DOMAIN:
                # A box or room in a room would play the room's own stream back into it.
                raise room_error("cannot_join_own_player", entity_id=entity_id)
        if len(self.coordinator.members) + len(added) > MAX_ROOM_MEMBERS:
            raise room_error("room_full", room=self.name, limit=str(MAX_ROOM_MEMBERS))
        members += [{CONF_ENTITY_ID: eid, CONF_OFFSET_MS: 0.0} for eid in added]
        await self.async_store_config({**self.config, CONF_ROOM_ENTITY_MEMBERS: members})

    async def async_unjoin(self, entity_ids: list[str] | None = None) -> None:
        """Remove media players (all of them when none are named)."""
        members = [
            item
            for item in self.config.get(CONF_ROOM_ENTITY_MEMBERS, [])
            if entity_ids is not None and item[CONF_ENTITY_ID] not in entity_ids
        ]
        await self.async_store_config({**self.config, CONF_ROOM_ENTITY_MEMBERS: members})

    async def async_store_config(self, data: dict[str, Any]) -> None:
        """Store changed members or offsets in the room's subentry and apply them."""
        entry = self.parts.entry
        subentry = entry.subentries[self.room_id]
        self.config = data  # the update listener then finds nothing left to apply
        self.hass.config_entries.async_update_subentry(entry, subentry, data=data)
        await async_flush_config_entries(self.hass)  # acknowledged means durable
        await self._async_apply_members(data)
        self._publish()
        self.publish_status()  # a changed offset shows at once

    # Live state -----------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Return the room as box subscribers see it."""
        return {
            "room_id": self.room_id,
            "name": self.name,
            "player": player_dict(self.player),
            "timeline": self.coordinator.timeline.as_dict(),
            "members": [
                {
                    "member_id": member.member_id,
                    "kind": member.kind,
                    "name": member.name,
                    "available": member.available,
                }
                for member in self.coordinator.members.values()
            ],
        }

    def snapshot(self) -> dict[str, Any]:
        """Return the room with its queue and its members' status, for a subscriber's snapshot."""
        return {**self.summary(), "queue": queue_ids(self.player), "status": self.status()}

    def status(self) -> dict[str, Any]:
        """Return each member's live status (error, speed trim, offset, realignments)."""
        now = server_time()
        members = self.coordinator.members.values()
        return {"room_id": self.room_id, "members": [m.live_status(now) for m in members]}

    @callback
    def publish_status(self, _now: datetime | None = None) -> None:
        """Send the members' status to the subscribers when it changed (none: nothing to do)."""
        if not self.parts.events.subscriber_count:
            self._published_status = None  # the next subscriber's snapshot has it
            return
        status = self.status()
        if status != self._published_status:
            self._published_status = status
            self.parts.events.publish("room_status", status)

    @callback
    def _publish(self) -> None:
        """Stream every change of the room; membership changes also go on the bus."""
        # The queue goes out on its own, only when it changes (room events come with each
        # barrier and volume step).
        queue = queue_ids(self.player)
        if queue != self._published_queue:
            self._published_queue = queue
            self.parts.events.publish("room_queue", {"room_id": self.room_id, "queue": queue})
        summary = self.summary()
        if summary == self._published:
            return  # the player and the coordinator both report one command's change
        self._published = summary
        self.parts.events.publish("room", summary)
        member_ids = frozenset(self.coordinator.members)
        if member_ids != self._member_ids:
            self._member_ids = member_ids
            self.parts.events.fire(
                EVENT_ROOM_MEMBERS,
                {"room_id": self.room_id, "members": sorted(member_ids)},
            )

    @callback
    def _on_skipped(self, track: Track, reason: str) -> None:
        """Tell clients which track the room could not play and why (a `room` event)."""
        skipped = {"track": track_dict(track), "reason": reason}
        self.parts.events.publish("room", {**self.summary(), "skipped": skipped})

    # Persistence -----------------------------------------------------------------

    @callback
    def _save(self) -> None:
        player = self.player
        rooms = self.parts.store.data.setdefault("rooms", {})
        if not player.queue:
            rooms.pop(self.room_id, None)
        else:
            rooms[self.room_id] = StoredRoom(
                track_ids=[track.id for track in player.queue],
                order=list(player.order),
                pos=player.pos,
                position=round(player.current_position(), 3),
                playlist_id=player.playlist_id,
                shuffle=player.shuffle,
                repeat=player.repeat.value,
                volume=player.volume,
                muted=player.muted,
            )
        self.parts.store.schedule_save()
        # A changed setting or queue is written at once; the playback position keeps the delay.
        if (settled := {**rooms.get(self.room_id, {}), "position": None}) != self._settled:
            self._settled = settled
            self._writing = self.parts.entry.async_create_task(
                self.hass, self.parts.store.async_flush(), f"{DOMAIN} room save"
            )

    async def async_saved(self) -> None:
        """Return once the last changed setting or queue is on disk (before a command's answer)."""
        if self._writing is not None:
            await asyncio.shield(self._writing)  # a cancelled caller leaves the write going

    async def _async_restore(self, stored: StoredRoom) -> None:
        player = self.player
        player.shuffle = stored["shuffle"]
        player.repeat = RepeatMode(stored["repeat"])
        tracks = [self.parts.catalog.track(track_id) for track_id in stored["track_ids"]]
        if any(track is None for track in tracks):
            _LOGGER.info("Room %s: its queue changed on disk, not restored", self.name)
            return
        await player.async_restore(
            [track for track in tracks if track is not None],
            stored["order"],
            stored["pos"],
            stored["position"],
            stored["playlist_id"],
        )

    def diagnostics(self) -> dict[str, Any]:
        """Return the room's state for diagnostics."""
        return {
            "room_id": self.room_id,
            "name": self.name,
            "state": self.player.state.value,
            "control": self.config.get(CONF_ROOM_CONTROL),
            "volume": self.player.volume,
            "queue_length": len(self.player.queue),
            "output": self.output.diagnostics(),
        }

    @property
    def playing(self) -> bool:
        """Return True while the room plays."""
        return self.player.state is PlayState.PLAYING
