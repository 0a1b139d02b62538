"""Rooms and devices as a person sees them: member names, translated models, areas for voice."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from homeassistant.components.conversation import async_converse
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_NAME, STATE_PAUSED, STATE_PLAYING
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    intent,
)
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import (
    AUDIO_DEVICE_AUTO,
    CONF_AUDIO_DEVICE,
    CONF_ENTITY_ID,
    CONF_OFFSET_MS,
    CONF_ROOM_CONTROL,
    CONF_ROOM_ENTITY_MEMBERS,
    CONF_ROOM_LOCAL_DEVICES,
    DOMAIN,
    ROOM_CONTROL_EVERYONE,
    SUBENTRY_ROOM,
)

from .conftest import box_entry
from .helpers.rooms import ROOM_ID, room_subentry, setup_room_entry, sync_library

Result = dict[str, Any]


async def _configure(hass: HomeAssistant, result: Result, user_input: dict[str, Any]) -> Result:
    done = await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    return cast(Result, done)


async def test_offsets_are_labelled_by_the_names_picked(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The offsets step names each member as the user knows it; same names get their id."""
    hass.states.async_set("media_player.kitchen", "idle", {"friendly_name": "Kitchen speaker"})
    hass.states.async_set("media_player.kitchen_2", "idle", {"friendly_name": "Kitchen speaker"})
    # Registered but not loaded (its integration is down): its name in the registry.
    er.async_get(hass).async_get_or_create(
        "media_player", "other", "attic", suggested_object_id="attic", original_name="Attic speaker"
    )
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_ROOM), context={"source": SOURCE_USER}
    )
    result = await _configure(
        hass,
        cast(Result, result),
        {
            CONF_NAME: "Kitchen",
            CONF_ROOM_CONTROL: ROOM_CONTROL_EVERYONE,
            CONF_ROOM_LOCAL_DEVICES: [AUDIO_DEVICE_AUTO],
            CONF_ROOM_ENTITY_MEMBERS: [
                "media_player.kitchen",
                "media_player.kitchen_2",
                "media_player.attic",
            ],
        },
    )
    assert result["step_id"] == "offsets"
    fields = [str(key) for key in result["data_schema"].schema]
    assert fields == [
        "Autoselect device",
        "Kitchen speaker",
        "Kitchen speaker (media_player.kitchen_2)",
        "Attic speaker",
    ]
    result = await _configure(hass, result, dict(zip(fields, (5, -20, 30, 0), strict=True)))
    assert result["data"][CONF_ROOM_LOCAL_DEVICES] == [
        {CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO, CONF_OFFSET_MS: 5.0}
    ]
    assert result["data"][CONF_ROOM_ENTITY_MEMBERS] == [
        {CONF_ENTITY_ID: "media_player.kitchen", CONF_OFFSET_MS: -20.0},
        {CONF_ENTITY_ID: "media_player.kitchen_2", CONF_OFFSET_MS: 30.0},
        {CONF_ENTITY_ID: "media_player.attic", CONF_OFFSET_MS: 0.0},
    ]


def device_of(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry:
    """Return a device of the integration by its identifier."""
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, identifier)})
    assert device is not None
    return device


async def test_models_are_translated(hass: HomeAssistant, tmp_path: Path) -> None:
    """The box's and the room's models are in the server's language."""
    hass.config.language = "fr"
    entry = await setup_room_entry(hass, sync_library(tmp_path / "library"), room_subentry())
    assert device_of(hass, entry.entry_id).model == "Lecteur libmpv"
    assert device_of(hass, ROOM_ID).model == "Pièce synchronisée"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_devices_join_the_area_of_their_name(hass: HomeAssistant, tmp_path: Path) -> None:
    """A box or room named like an area is put in it; no area is made for other names."""
    areas = ar.async_get(hass)
    living = areas.async_create("Living room")
    entry = await setup_room_entry(hass, sync_library(tmp_path / "library"), room_subentry())
    assert device_of(hass, ROOM_ID).area_id == living.id
    assert device_of(hass, entry.entry_id).area_id is None  # "Music Box" is no area
    assert [area.name for area in areas.async_list_areas()] == ["Living room"]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_pause_by_voice_in_the_box_area(
    hass: HomeAssistant, library: Path, tmp_path: Path
) -> None:
    """In the area of the box, "pause" and "next track" need no name (a satellite there)."""
    kids = ar.async_get(hass).async_create("Kids room")
    hass.config.allowlist_external_dirs = {str(library.parent)}
    entry = box_entry(library)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, title="Kids room")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    entity_id = "media_player.kids_room"
    assert device_of(hass, entry.entry_id).area_id == kids.id

    satellite_entry = MockConfigEntry(domain="test")
    satellite_entry.add_to_hass(hass)
    satellite = dr.async_get(hass).async_get_or_create(
        config_entry_id=satellite_entry.entry_id, identifiers={("test", "satellite")}
    )
    dr.async_get(hass).async_update_device(satellite.id, area_id=kids.id)
    hass.config.config_dir = str(tmp_path / "config")
    for component in ("homeassistant", "conversation", "intent"):
        assert await async_setup_component(hass, component, {})
    await hass.async_block_till_done()
    async_expose_entity(hass, "conversation", entity_id, True)

    audiobook = next(p.id for p in entry.runtime_data.catalog.playlists() if p.name == "Audiobook")
    await hass.services.async_call(
        "media_player",
        "play_media",
        {
            "entity_id": entity_id,
            "media_content_type": "playlist",
            "media_content_id": f"playlist:{audiobook}",
        },
        blocking=True,
    )

    async def say(text: str) -> None:
        result = await async_converse(hass, text, None, Context(), "en", device_id=satellite.id)
        await hass.async_block_till_done()
        response = result.response
        assert response.response_type is intent.IntentResponseType.ACTION_DONE, response.as_dict()

    await say("next track")
    state = hass.states.get(entity_id)
    assert state is not None
    assert (state.state, state.attributes["media_title"]) == (STATE_PLAYING, "Chapter 2")
    await say("pause")
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == STATE_PAUSED
    await hass.config_entries.async_unload(entry.entry_id)
