"""What every entity of a box shares: its device, a name from the translations, a unique id."""

from __future__ import annotations

from homeassistant.helpers.entity import Entity

from .box import MusicBox


class MusicBoxEntity(Entity):
    """An entity of one box, named by `translation_key` under the box's device."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, box: MusicBox, key: str) -> None:
        self._box = box
        self._attr_translation_key = key
        self._attr_unique_id = f"{box.entry.entry_id}_{key}"
        self._attr_device_info = box.device_info
