"""Sensors of a box: the last scanned tag, the end of the sleep timer, minutes listened today."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.const import UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .box import MusicBox, OpenMusicBoxConfigEntry
from .entity import MusicBoxEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OpenMusicBoxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the box's sensors."""
    box = entry.runtime_data
    async_add_entities([LastTagSensor(box), SleepTimerSensor(box), ListenedTodaySensor(box)])


class LastTagSensor(MusicBoxEntity, SensorEntity):
    """What the last tag a reader scanned plays on this box: its playlist's name.

    Unknown when the box does not link the tag. The tag id is an attribute, as on Home Assistant's
    own tag entities (every user sees those): no more is shown than they show.
    """

    # Like HA's tag entities: the id is not written to the recorder's history.
    _unrecorded_attributes = frozenset({"tag_id"})

    def __init__(self, box: MusicBox) -> None:
        """Initialize the last tag sensor."""
        super().__init__(box, "last_tag")
        self._tags = box.tags
        self._catalog = box.catalog

    async def async_added_to_hass(self) -> None:
        """Follow the scans."""
        self.async_on_remove(self._tags.async_add_listener(self._changed))

    @callback
    def _changed(self) -> None:
        self.async_write_ha_state()

    @property
    def native_value(self) -> str | None:
        """Return the name of the last tag's playlist (unknown for a tag the box does not link)."""
        scan = self._tags.last_scan
        if scan is None or scan.playlist_id is None:
            return None
        playlist = self._catalog.playlist(scan.playlist_id)
        return None if playlist is None else playlist.name

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the tag, the reader, whether the tag is linked here, and its playlist."""
        scan = self._tags.last_scan
        return {
            "tag_id": None if scan is None else scan.tag_id,
            "device_id": None if scan is None else scan.device_id,
            "known": None if scan is None else scan.known,
            "playlist_id": None if scan is None else scan.playlist_id,
        }


class SleepTimerSensor(MusicBoxEntity, SensorEntity):
    """When the sleep timer ends (unknown while it is off); the frontend shows the time left."""

    _attr_device_class = SensorDeviceClass.TIMESTAMP

    def __init__(self, box: MusicBox) -> None:
        """Initialize the sleep timer sensor."""
        super().__init__(box, "sleep_timer")
        self._timer = box.sleep_timer

    async def async_added_to_hass(self) -> None:
        """Follow the timer."""
        self.async_on_remove(self._timer.async_add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> datetime | None:
        """Return the end time, or None when no timer runs."""
        return self._timer.ends_at


class ListenedTodaySensor(MusicBoxEntity, SensorEntity):
    """Minutes the box (or one of its rooms) played today; 0 again at midnight."""

    _attr_device_class = SensorDeviceClass.DURATION
    _attr_native_unit_of_measurement = UnitOfTime.MINUTES
    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_suggested_display_precision = 0

    def __init__(self, box: MusicBox) -> None:
        """Initialize the listened today sensor."""
        super().__init__(box, "listened_today")
        self._limit = box.daily_limit

    async def async_added_to_hass(self) -> None:
        """Follow the count (every minute while playing, and at starts, stops and midnight)."""
        self.async_on_remove(self._limit.async_add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> float:
        """Return the minutes listened today."""
        return self._limit.listened_minutes()

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the limit, the extra minutes granted and whether the limit is reached."""
        data = self._limit.as_dict()
        return {key: data[key] for key in ("limit_minutes", "extra_minutes", "reached")}
