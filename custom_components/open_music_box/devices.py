"""What the device page shows (translated model, area), and which media players a room may have.

Home Assistant 2026.2 translates a device's name (DeviceInfo `translation_key`) but not its
model. The model texts live in strings.json under `device` (as names, the only field that
section allows) and are read here in the server's language when the box is set up.
"""

from __future__ import annotations

from homeassistant.components.media_player.const import DOMAIN as MEDIA_PLAYER_DOMAIN
from homeassistant.core import HomeAssistant, split_entity_id
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


def check_entity_member(
    hass: HomeAssistant,
    registry: er.EntityRegistry,
    raw: str,
    own_entities: list[str],
    kept: list[str],
) -> tuple[str, str | None]:
    """Return (entity id, None) for a media player a room may have, or (raw, error key).

    The room form and the panel's operations (sync/room_members.py) share this rule; the room's
    own members that vanished since are kept.
    """
    # The selector also accepts registry ids (UUIDs) and does not check those.
    entity_id = er.async_resolve_entity_id(registry, raw)
    if entity_id in own_entities:
        return raw, "entity_is_music_box"
    if entity_id is None or not (entity_id in kept or _exists(hass, entity_id, registry)):
        return raw, "entity_not_found"
    return entity_id, None


def _exists(hass: HomeAssistant, entity_id: str, registry: er.EntityRegistry) -> bool:
    """Return True for a media player known to HA."""
    return split_entity_id(entity_id)[0] == MEDIA_PLAYER_DOMAIN and (
        hass.states.get(entity_id) is not None or entity_id in registry.entities
    )
