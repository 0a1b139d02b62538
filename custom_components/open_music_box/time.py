"""When bedtime starts and ends (local time): the box's `time` entities, options of the box.

Each room has its own start and end too (stored with the box), on the room's device.
"""

from __future__ import annotations

from datetime import time

from homeassistant.components.time import TimeEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .box import MusicBox, OpenMusicBoxConfigEntry
from .children.bedtime import option_time
from .children.const import (
    CONF_BEDTIME_END,
    CONF_BEDTIME_START,
    DEFAULT_BEDTIME_END,
    DEFAULT_BEDTIME_START,
)
from .children.room_bedtime import ROOM_END, ROOM_START, RoomBedtime
from .entity import MusicBoxEntity, MusicBoxOptionEntity, room_device_info

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OpenMusicBoxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the start and end of bedtime, and each room's under the room's subentry."""
    box = entry.runtime_data
    async_add_entities(
        [
            BedtimeTime(box, "bedtime_start", CONF_BEDTIME_START, DEFAULT_BEDTIME_START),
            BedtimeTime(box, "bedtime_end", CONF_BEDTIME_END, DEFAULT_BEDTIME_END),
        ]
    )
    for room_id, bedtime in box.room_bedtimes.items():
        async_add_entities(
            [RoomBedtimeTime(box, room_id, bedtime, key) for key in (ROOM_START, ROOM_END)],
            config_subentry_id=room_id,
        )


class BedtimeTime(MusicBoxOptionEntity, TimeEntity):
    """A time of bedtime's schedule (used when the schedule option is on)."""

    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, box: MusicBox, key: str, option: str, default: str) -> None:
        """Initialize the bedtime time."""
        super().__init__(box, key)
        self._option = option
        self._default = default

    @property
    def native_value(self) -> time:
        """Return the time."""
        return option_time(self._entry.options, self._option, self._default)

    async def async_set_value(self, value: time) -> None:
        """Store the new time (the schedule follows it at once)."""
        await self.async_check_admin()
        options = {**self._entry.options, self._option: value.replace(microsecond=0).isoformat()}
        self.hass.config_entries.async_update_entry(self._entry, options=options)


class RoomBedtimeTime(MusicBoxEntity, TimeEntity):
    """A time of a room's bedtime schedule (used when the box's schedule option is on)."""

    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, box: MusicBox, room_id: str, bedtime: RoomBedtime, key: str) -> None:
        """Initialize the room bedtime time."""
        super().__init__(box, f"bedtime_{key}")
        self._attr_unique_id = f"{room_id}_bedtime_{key}"
        self._attr_device_info = room_device_info(box, box.rooms[room_id])
        self._bedtime = bedtime
        self._key = key

    async def async_added_to_hass(self) -> None:
        """Follow the room's bedtime (its times change here or through the panel)."""
        self.async_on_remove(self._bedtime.async_add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> time:
        """Return the time."""
        return self._bedtime.time_of(self._key)

    async def async_set_value(self, value: time) -> None:
        """Store the new time (the room's schedule follows it at once)."""
        await self.async_check_admin()
        self._bedtime.set_time(self._key, value)
