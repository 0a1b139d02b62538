"""Switches of a box: bedtime (a parent, an automation or a schedule turns it on), the lock.

Each room has its own bedtime switch too, on the room's device.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .box import MusicBox, OpenMusicBoxConfigEntry
from .children.bedtime import Bedtime
from .children.const import CONF_LOCK
from .children.lock import locked
from .entity import MusicBoxEntity, MusicBoxOptionEntity, room_device_info

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OpenMusicBoxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add bedtime and the lock, and each room's bedtime under the room's subentry."""
    box = entry.runtime_data
    async_add_entities([BedtimeSwitch(box, box.bedtime), LockSwitch(box)])
    for room_id, bedtime in box.room_bedtimes.items():
        async_add_entities([BedtimeSwitch(box, bedtime, room_id)], config_subentry_id=room_id)


class BedtimeSwitch(MusicBoxEntity, SwitchEntity):
    """On at bedtime: bedtime playlists only, the night maximum, a sleep timer with every play."""

    def __init__(self, box: MusicBox, bedtime: Bedtime, room_id: str | None = None) -> None:
        """Initialize the bedtime switch."""
        super().__init__(box, "bedtime")
        self._bedtime = bedtime
        if room_id is not None:  # a room's own bedtime, on the room's device
            self._attr_unique_id = f"{room_id}_bedtime"
            self._attr_device_info = room_device_info(box, box.rooms[room_id])

    async def async_added_to_hass(self) -> None:
        """Follow bedtime, whoever changes it (the schedule, this switch)."""
        self.async_on_remove(self._bedtime.async_add_listener(self.async_write_ha_state))

    @property
    def is_on(self) -> bool:
        """Return True at bedtime."""
        return self._bedtime.active

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start bedtime (until it is turned off, or the schedule's end)."""
        await self.async_check_admin()
        self._bedtime.set(True, "switch")

    async def async_turn_off(self, **kwargs: Any) -> None:
        """End bedtime (until it is turned on, or the schedule's start)."""
        await self.async_check_admin()
        self._bedtime.set(False, "switch")


class LockSwitch(MusicBoxOptionEntity, SwitchEntity):
    """On: people who are not administrators keep only play, pause, next, previous, volume."""

    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, box: MusicBox) -> None:
        """Initialize the lock switch."""
        super().__init__(box, "lock")

    @property
    def is_on(self) -> bool:
        """Return True when the box is locked."""
        return locked(self._box.entry)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Lock the box."""
        await self._async_set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Unlock the box."""
        await self._async_set(False)

    async def _async_set(self, lock: bool) -> None:
        await self.async_check_admin()
        options = {**self._entry.options, CONF_LOCK: lock}
        self.hass.config_entries.async_update_entry(self._entry, options=options)
