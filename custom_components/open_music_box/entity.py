"""What every entity of a box shares: its device, a name from the translations, a unique id."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity

from .box import MusicBox
from .const import DOMAIN
from .devices import MODEL_ROOM, suggested_area
from .sync.room import Room


def room_device_info(box: MusicBox, room: Room) -> DeviceInfo:
    """Return a room's device as its media player describes it (the translated model)."""
    return room.device_info | DeviceInfo(
        model=box.models[MODEL_ROOM], suggested_area=suggested_area(box.hass, room.name)
    )


class MusicBoxEntity(Entity):
    """An entity of one box, named by `translation_key` under the box's device."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, box: MusicBox, key: str) -> None:
        """Initialize the music box entity."""
        self._box = box
        self._attr_translation_key = key
        self._attr_unique_id = f"{box.entry.entry_id}_{key}"
        self._attr_device_info = box.device_info

    async def async_check_admin(self, translation_key: str = "admin_only") -> None:
        """Raise unless the caller is an administrator or no user (an automation, a script).

        The parents' settings: a child with a non-admin account must not undo them.
        """
        user_id = self._context.user_id if self._context else None
        if user_id is None:
            return
        user = await self.hass.auth.async_get_user(user_id)
        if user is None or not user.is_admin:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key=translation_key)


class MusicBoxOptionEntity(MusicBoxEntity):
    """An entity showing the box's options: it follows them, whoever changed them."""

    def __init__(self, box: MusicBox, key: str) -> None:
        """Initialize the music box option entity."""
        super().__init__(box, key)
        self._entry = box.entry

    async def async_added_to_hass(self) -> None:
        """Show new options (this entity, the options flow, an automation)."""
        self.async_on_remove(self._entry.add_update_listener(self._async_options_updated))

    async def _async_options_updated(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        self.async_write_ha_state()
