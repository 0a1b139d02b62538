"""The box's maximum volume as a number entity, so that a parent can change it from a dashboard.

It is the `max_volume` option: setting it updates the entry's options, and the entry's update
listener applies them to the running player (a lower cap lowers the volume at once). Only an
administrator may change it; automations and scripts (no user) may too, as their authors are.
"""

from __future__ import annotations

from homeassistant.components.number import NumberEntity, NumberMode
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .box import MusicBox, OpenMusicBoxConfigEntry
from .const import CONF_DEFAULT_VOLUME, CONF_MAX_VOLUME, DEFAULT_MAX_VOLUME, DOMAIN
from .entity import MusicBoxEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OpenMusicBoxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the box's maximum volume."""
    async_add_entities([MaxVolumeNumber(entry.runtime_data)])


class MaxVolumeNumber(MusicBoxEntity, NumberEntity):
    """The volume the box never goes above, in percent."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_native_min_value = 0
    _attr_native_max_value = 100
    _attr_native_step = 1
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_mode = NumberMode.SLIDER

    def __init__(self, box: MusicBox) -> None:
        super().__init__(box, "max_volume")
        self._entry = box.entry

    async def async_added_to_hass(self) -> None:
        """Show new options, whoever changed them (this entity or the options flow)."""
        self.async_on_remove(self._entry.add_update_listener(self._async_options_updated))

    async def _async_options_updated(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        self.async_write_ha_state()

    @property
    def native_value(self) -> float:
        """Return the maximum volume in percent."""
        return float(self._entry.options.get(CONF_MAX_VOLUME, DEFAULT_MAX_VOLUME))

    async def async_set_native_value(self, value: float) -> None:
        """Store the new maximum in the options (applied live by the update listener)."""
        await self._async_check_admin()
        maximum = round(value)
        options = {**self._entry.options, CONF_MAX_VOLUME: maximum}
        # The options flow refuses a default volume above the maximum: keep them consistent.
        if options.get(CONF_DEFAULT_VOLUME, 0) > maximum:
            options[CONF_DEFAULT_VOLUME] = maximum
        self.hass.config_entries.async_update_entry(self._entry, options=options)

    async def _async_check_admin(self) -> None:
        user_id = self._context.user_id if self._context else None
        if user_id is None:
            return
        user = await self.hass.auth.async_get_user(user_id)
        if user is None or not user.is_admin:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="max_volume_admin_only"
            )
