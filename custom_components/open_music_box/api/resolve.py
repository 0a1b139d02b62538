"""What a parent types or picks, turned into the ids the operations work on.

A playlist is named by its id, its `playlist:<id>` media id (what browsing the box gives the
media selector), or its name (exact, case-insensitive). A room by its media player. A box (in
actions) by the action's target (its media player) or its config entry. Both ways in (actions,
WebSocket) go through `resolve_fields`, so they accept the same.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.media_player import DOMAIN as MP_DOMAIN
from homeassistant.const import (
    ATTR_AREA_ID,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DEVICE_ID,
    ATTR_ENTITY_ID,
    ATTR_FLOOR_ID,
    ATTR_LABEL_ID,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er, service

from ..box import MusicBox
from ..catalog import Catalog, validation_error
from ..const import DOMAIN, PLAYLIST_PREFIX

# An action's target (the frontend's target picker): the box's media player, device or area.
TARGET_KEYS = (ATTR_ENTITY_ID, ATTR_DEVICE_ID, ATTR_AREA_ID, ATTR_FLOOR_ID, ATTR_LABEL_ID)
ATTR_ROOM_ENTITY_ID = "room_entity_id"
PLAYLIST_FIELDS = ("playlist_id", "source_playlist_id", "target_playlist_id")


def resolve_playlist(catalog: Catalog, ref: str) -> str:
    """Return the id of the playlist `ref` names, or raise a translated error."""
    if ref.startswith(PLAYLIST_PREFIX):
        return catalog.require_playlist(ref.removeprefix(PLAYLIST_PREFIX)).id
    if catalog.playlist(ref) is not None:
        return ref  # an id wins over a name that looks like it
    key = ref.casefold()
    found = [p for p in catalog.playlists() if p.name.strip().casefold() == key]
    if len(found) > 1:
        # Ids only (any user may list them), so the caller can pick one.
        ids = ", ".join(p.id for p in found)
        raise validation_error("ambiguous_playlist", name=ref, playlist_ids=ids)
    if not found:
        raise validation_error("unknown_playlist", playlist_id=ref)
    return found[0].id


def resolve_room_entity(box: MusicBox, entity_id: str) -> str:
    """Return the room id of one of the box's room media players."""
    entry = er.async_get(box.hass).async_get(entity_id)
    if (
        entry is None
        or entry.platform != DOMAIN
        or entry.config_entry_id != box.entry.entry_id
        or entry.config_subentry_id not in box.rooms
    ):
        raise validation_error("room_entity_not_found", entity_id=entity_id, name=box.entry.title)
    return entry.config_subentry_id


def resolve_fields(box: MusicBox, data: dict[str, Any]) -> dict[str, Any]:
    """Return the call's fields with playlists and rooms as ids."""
    out = dict(data)
    for key in PLAYLIST_FIELDS:
        if isinstance(ref := out.get(key), str):
            out[key] = resolve_playlist(box.catalog, ref)
    if (room_entity := out.pop(ATTR_ROOM_ENTITY_ID, None)) is not None:
        if "room_id" in out:
            raise validation_error("both_given", first="room_id", second=ATTR_ROOM_ENTITY_ID)
        out["room_id"] = resolve_room_entity(box, room_entity)
    return out


def _box_entry_id(registry: er.EntityRegistry, entity_id: str) -> str | None:
    """Return the config entry of a box's own media player (a room's player is no box)."""
    entry = registry.async_get(entity_id)
    if (
        entry is None
        or entry.platform != DOMAIN
        or entry.domain != MP_DOMAIN
        or entry.config_subentry_id is not None
    ):
        return None
    return entry.config_entry_id


def action_entry_id(hass: HomeAssistant, call: ServiceCall) -> str:
    """Return the one box an action names: its target (media player, device…) or config entry."""
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    if not any(key in call.data for key in TARGET_KEYS):
        if entry_id is None:
            raise validation_error("box_missing")
        return str(entry_id)
    if entry_id is not None:
        raise validation_error("both_given", first="target", second=ATTR_CONFIG_ENTRY_ID)
    selected = service.async_extract_referenced_entity_ids(hass, call, expand_group=False)
    registry = er.async_get(hass)
    found: set[str] = set()
    for entity_id in sorted(selected.referenced):
        if (box_entry := _box_entry_id(registry, entity_id)) is None:
            raise validation_error("box_entity_not_found", entity_id=entity_id)
        found.add(box_entry)
    found.update(
        box_entry
        for entity_id in selected.indirectly_referenced
        if (box_entry := _box_entry_id(registry, entity_id)) is not None
    )
    if len(found) != 1:
        raise validation_error("box_missing" if not found else "one_box")
    return found.pop()
