"""What the device page shows: a translated model, and the area a box or room belongs in.

Home Assistant 2026.2 translates a device's name (DeviceInfo `translation_key`) but not its
model. The model texts live in strings.json under `device` (as names, the only field that
section allows) and are read here in the server's language when the box is set up.
"""

from __future__ import annotations

from homeassistant.components.media_player.const import DOMAIN as MEDIA_PLAYER_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, entity_registry as er, translation

from .const import DOMAIN

MODEL_MPV = "mpv_player"
MODEL_RELAY = "relay_player"
MODEL_ROOM = "sync_room"
# Used until the translations are read (and if a language lacks them).
DEFAULT_MODELS = {
    MODEL_MPV: "libmpv player",
    MODEL_RELAY: "Media player relay",
    MODEL_ROOM: "Sync room",
}


async def async_device_models(hass: HomeAssistant) -> dict[str, str]:
    """Return the device models in the server's language."""
    texts = await translation.async_get_translations(hass, hass.config.language, "device", [DOMAIN])
    return {
        key: texts.get(f"component.{DOMAIN}.device.{key}.name", default)
        for key, default in DEFAULT_MODELS.items()
    }


def suggested_area(hass: HomeAssistant, name: str) -> str | None:
    """Return the name of the area called like the box or room, if there is one.

    Never a new area: a room named "Party" must not create an area "Party".
    """
    area = ar.async_get(hass).async_get_area_by_name(name)
    return area.name if area else None


def own_media_players(registry: er.EntityRegistry) -> list[str]:
    """Return our own media players (boxes, rooms): never a target or a room member themselves."""
    return [
        entity.entity_id
        for entity in registry.entities.values()
        if entity.platform == DOMAIN and entity.domain == MEDIA_PLAYER_DOMAIN
    ]
