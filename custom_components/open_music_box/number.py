"""The box's volume limits and daily limit as number entities, for a parent's dashboard.

Each is an option: setting it updates the entry's options, and the entry's update listener applies
them to the running box (a lower cap lowers the volume at once). Only an administrator may change
them; automations and scripts (no user) may too, as their authors are.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .box import MusicBox, OpenMusicBoxConfigEntry
from .children.const import (
    CONF_DAILY_LIMIT,
    CONF_MIN_VOLUME,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_MIN_VOLUME,
    MAX_DAILY_LIMIT,
)
from .const import CONF_DEFAULT_VOLUME, CONF_MAX_VOLUME, DEFAULT_MAX_VOLUME, DOMAIN
from .entity import MusicBoxOptionEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OpenMusicBoxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the box's maximum and minimum volume and its daily limit."""
    box = entry.runtime_data
    async_add_entities([MaxVolumeNumber(box), MinVolumeNumber(box), DailyLimitNumber(box)])


class OptionNumber(MusicBoxOptionEntity, NumberEntity):
    """A whole-number option of the box."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_native_min_value = 0
    _attr_native_step = 1
    _option: str
    _default: int
    _admin_key = "admin_only"

    def __init__(self, box: MusicBox, key: str) -> None:
        """Initialize the option number."""
        super().__init__(box, key)

    @property
    def native_value(self) -> float:
        """Return the option's value."""
        return float(self._entry.options.get(self._option, self._default))

    async def async_set_native_value(self, value: float) -> None:
        """Store the new value in the options (applied live by the update listener)."""
        await self.async_check_admin(self._admin_key)
        options = self._updated({**self._entry.options}, round(value))
        self.hass.config_entries.async_update_entry(self._entry, options=options)

    def _updated(self, options: dict[str, Any], value: int) -> dict[str, Any]:
        options[self._option] = value
        return options


class MaxVolumeNumber(OptionNumber):
    """The volume the box never goes above, in percent."""

    _attr_native_max_value = 100
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_mode = NumberMode.SLIDER
    _option, _default = CONF_MAX_VOLUME, DEFAULT_MAX_VOLUME
    _admin_key = "max_volume_admin_only"

    def __init__(self, box: MusicBox) -> None:
        """Initialize the max volume number."""
        super().__init__(box, "max_volume")

    def _updated(self, options: dict[str, Any], value: int) -> dict[str, Any]:
        # The options flow refuses a default volume or a floor above the maximum: keep them so.
        for key in (CONF_DEFAULT_VOLUME, CONF_MIN_VOLUME):
            if options.get(key, 0) > value:
                options[key] = value
        return super()._updated(options, value)


class MinVolumeNumber(OptionNumber):
    """The volume the box never goes below, in percent (0: no floor)."""

    _attr_native_max_value = 100
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_mode = NumberMode.SLIDER
    _option, _default = CONF_MIN_VOLUME, DEFAULT_MIN_VOLUME

    def __init__(self, box: MusicBox) -> None:
        """Initialize the min volume number."""
        super().__init__(box, "min_volume")

    def _updated(self, options: dict[str, Any], value: int) -> dict[str, Any]:
        if value > options.get(CONF_MAX_VOLUME, DEFAULT_MAX_VOLUME):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="min_volume_above_max"
            )
        return super()._updated(options, value)


class DailyLimitNumber(OptionNumber):
    """Minutes of listening a day (0: no limit)."""

    _attr_native_max_value = MAX_DAILY_LIMIT
    _attr_device_class = NumberDeviceClass.DURATION
    _attr_native_unit_of_measurement = UnitOfTime.MINUTES
    _attr_mode = NumberMode.BOX
    _option, _default = CONF_DAILY_LIMIT, DEFAULT_DAILY_LIMIT

    def __init__(self, box: MusicBox) -> None:
        """Initialize the daily limit number."""
        super().__init__(box, "daily_limit")
