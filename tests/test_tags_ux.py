"""Tags without Developer tools: what a parent picks or types, what a parent is told.

Playlists by name or browsed media id, boxes and rooms by their media players, one notification
per unknown scan with the reader and links, a confirmation when that tag is linked, the playlist's
name on the last tag sensor, and names in Home Assistant's own tag list.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from homeassistant.components import tag
from homeassistant.components.persistent_notification import _async_get_or_create_notifications
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.const import CONF_UNKNOWN_TAG_NOTIFICATION, DOMAIN
from custom_components.open_music_box.library import folder_playlist_id
from custom_components.open_music_box.playback.player import PlayState
from custom_components.open_music_box.tag_notices import (
    LINKED_NOTIFICATION_ID,
    NOTIFICATION_ID,
    TAGS_PANEL_URL,
)

from .conftest import ENTITY_ID, box_entry, build_library
from .helpers.rooms import ROOM_ENTITY, ROOM_ID, room_subentry, setup_room_entry

ANIMALS = folder_playlist_id("Animals")
SENSOR = "sensor.music_box_last_tag"
TAG_A = "04-1A-3B-1C-5D-80-00"
TAG_B = "04-77-12-9A-21-80-00"


@pytest.fixture(autouse=True)
async def tag_component(hass: HomeAssistant) -> None:
    """HA's tag component (what readers call) and notifications."""
    assert await async_setup_component(hass, "tag", {})
    assert await async_setup_component(hass, "persistent_notification", {})


@pytest.fixture
async def second_box(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[MockConfigEntry]:
    """Another loaded box, on its own library, called Attic."""
    library = build_library(tmp_path / "other")
    hass.config.allowlist_external_dirs = {*hass.config.allowlist_external_dirs, str(tmp_path)}
    other = box_entry(library)
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(other.entry_id)
    await hass.async_block_till_done()
    hass.config_entries.async_update_entry(other, title="Attic")
    yield other
    await hass.config_entries.async_unload(other.entry_id)


async def scan(hass: HomeAssistant, tag_id: str, device_id: str | None = None) -> None:
    """Scan a tag as a reader does, and wait for what it starts."""
    await tag.async_scan_tag(hass, tag_id, device_id)
    await hass.async_block_till_done()


async def act(
    hass: HomeAssistant, service: str, target: dict[str, Any] | None = None, **data: Any
) -> Any:
    """Call one of our actions (the box: `target` or in `data`); return its response if any."""
    response = await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        target=target,
        return_response=service in {"link_tag", "associate_tag", "list_tags", "create_playlist"},
    )
    await hass.async_block_till_done()
    return response


def notifications(hass: HomeAssistant) -> dict[str, Any]:
    """Return the persistent notifications by id."""
    return dict(_async_get_or_create_notifications(hass))


def box_device(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """Return the id of the box's device."""
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    assert device is not None
    return device.id


def ha_tag_name(hass: HomeAssistant, tag_id: str) -> str | None:
    """Return the name Home Assistant's tag list shows for a tag (None: its default)."""
    registry = er.async_get(hass)
    entity_id = registry.async_get_entity_id("tag", "tag", tag_id)
    assert entity_id is not None
    entity = registry.async_get(entity_id)
    assert entity is not None
    return entity.name


# Playlists by name, media id or browsed media ---------------------------------------------------


async def test_playlist_by_name_media_id_or_browsed_media(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Every way to name a playlist links the same one, by action and by command."""
    box = {"config_entry_id": entry.entry_id}
    for ref in (
        "animals",  # a name, any case, no id
        "  ANIMALS ",
        f"playlist:{ANIMALS}",  # what browsing the box gives
        {
            "entity_id": ENTITY_ID,
            "media_content_id": f"playlist:{ANIMALS}",
            "media_content_type": "playlist",
        },  # the media selector's value
        ANIMALS,
    ):
        link = await act(hass, "link_tag", **box, tag_id=TAG_A, playlist_id=ref)
        assert (link["playlist_id"], link["playlist_name"]) == (ANIMALS, "Animals"), ref
    session = await act(hass, "associate_tag", **box, playlist_id="Audiobook")
    assert session["playlist_id"] == folder_playlist_id("Audiobook")
    await act(hass, "cancel_association", **box)

    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/tags/link",
            "entry_id": entry.entry_id,
            "tag_id": TAG_B,
            "playlist_id": "mix",
        }
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    assert reply["result"]["playlist_name"] == "Mix"
    # Other playlist fields take names too: the one table.
    got = await hass.services.async_call(
        DOMAIN,
        "get_playlist",
        {**box, "playlist_id": "Animals"},
        blocking=True,
        return_response=True,
    )
    assert got is not None
    assert got["id"] == ANIMALS


async def test_ambiguous_or_unknown_names_are_refused(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Two playlists called alike: a translated error naming their ids; nothing is linked."""
    box = {"config_entry_id": entry.entry_id}
    first = await act(hass, "create_playlist", **box, name="Bedtime")
    second = await act(hass, "create_playlist", **box, name="bedtime")
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, "link_tag", **box, tag_id=TAG_A, playlist_id="BEDTIME")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "ambiguous_playlist"
    placeholders = err.value.translation_placeholders or {}
    assert set(placeholders["playlist_ids"].split(", ")) == {first["id"], second["id"]}
    assert TAG_A not in str(placeholders)
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, "associate_tag", **box, playlist_id="Nothing like it")
    assert err.value.translation_key == "unknown_playlist"
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, "link_tag", **box, tag_id=TAG_A, playlist_id="playlist:nope")
    assert err.value.translation_key == "unknown_playlist"
    # The id still picks one of the two.
    link = await act(hass, "link_tag", **box, tag_id=TAG_A, playlist_id=second["id"])
    assert link["playlist_id"] == second["id"]

    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/tags/associate", "entry_id": entry.entry_id, "playlist_id": "Bedtime"}
    )
    reply = await client.receive_json()
    assert not reply["success"]
    assert reply["error"]["code"] == "ambiguous_playlist"
    assert "Bedtime" in reply["error"]["message"]
    listed = await act(hass, "list_tags", **box)
    assert [t["tag_id"] for t in listed["tags"]] == [TAG_A]
    assert listed["session"] is None


# The box and the room by their media players ------------------------------------------------


async def test_box_by_its_media_player(
    hass: HomeAssistant, entry: MockConfigEntry, second_box: MockConfigEntry
) -> None:
    """The target names the box (its player or device); one box in all, and a box's player."""
    player = {"entity_id": ENTITY_ID}
    link = await act(hass, "link_tag", player, tag_id=TAG_A, playlist_id="Mix")
    assert link["playlist_name"] == "Mix"
    listed = await act(hass, "list_tags", {"device_id": box_device(hass, entry)})
    assert [t["tag_id"] for t in listed["tags"]] == [TAG_A]
    assert (await act(hass, "list_tags", {"device_id": box_device(hass, second_box)}))["tags"] == []
    area = ar.async_get(hass).async_create("Kids' room")
    for box in (entry, second_box):
        dr.async_get(hass).async_update_device(box_device(hass, box), area_id=area.id)
    for target, data, key in (
        (None, {}, "box_missing"),
        (player, {"config_entry_id": entry.entry_id}, "both_given"),
        ({"entity_id": SENSOR}, {}, "box_entity_not_found"),
        ({"entity_id": "media_player.nowhere"}, {}, "box_entity_not_found"),
        ({"area_id": area.id}, {}, "one_box"),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await act(hass, "unlink_tag", target, **data, tag_id=TAG_A)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == key, target
    assert len((await act(hass, "list_tags", player))["tags"]) == 1


async def test_room_by_its_media_player(hass: HomeAssistant, tmp_path: Path) -> None:
    """room_entity_id links the tag to that room; the box's own player is no room."""
    room_entry = await setup_room_entry(hass, build_library(tmp_path / "lib"), room_subentry())
    box = {"config_entry_id": room_entry.entry_id}
    link = await act(
        hass, "link_tag", **box, tag_id=TAG_A, playlist_id="animals", room_entity_id=ROOM_ENTITY
    )
    assert link["target"] == ROOM_ID
    await scan(hass, TAG_A)
    assert room_entry.runtime_data.rooms[ROOM_ID].player.state is PlayState.PLAYING
    with pytest.raises(ServiceValidationError) as err:  # a room's player is no box
        await act(hass, "list_tags", {"entity_id": ROOM_ENTITY})
    assert err.value.translation_key == "box_entity_not_found"
    for extra, key in (
        ({"room_entity_id": ENTITY_ID}, "room_entity_not_found"),
        ({"room_entity_id": ROOM_ENTITY, "room_id": ROOM_ID}, "both_given"),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await act(hass, "link_tag", **box, tag_id=TAG_B, playlist_id="Mix", **extra)
        assert err.value.translation_key == key
    await hass.config_entries.async_unload(room_entry.entry_id)


# The unknown-tag notification -----------------------------------------------------------------


async def test_unknown_tag_notification_names_the_reader_and_links(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The tag, the reader's name, the action that links by scanning, the box's device page."""
    reader_entry = MockConfigEntry(domain="esphome")
    reader_entry.add_to_hass(hass)
    reader = dr.async_get(hass).async_get_or_create(
        config_entry_id=reader_entry.entry_id, identifiers={("esphome", "r1")}, name="Hall reader"
    )
    dr.async_get(hass).async_update_device(reader.id, name_by_user="Kids' room reader")
    await scan(hass, TAG_A, reader.id)
    notification = notifications(hass)[NOTIFICATION_ID]
    message = notification["message"]
    assert f"`{TAG_A}`" in message
    assert "Kids' room reader" in message
    assert f"]({TAGS_PANEL_URL})" in message
    assert f"[Music Box](/config/devices/device/{box_device(hass, entry)})" in message


async def test_linking_the_tag_clears_the_notification_and_confirms(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Scanning the tag again during an association replaces the notice by a confirmation."""
    box = {"entity_id": ENTITY_ID}
    await scan(hass, TAG_A)
    assert list(notifications(hass)) == [NOTIFICATION_ID]
    await act(hass, "link_tag", box, tag_id=TAG_B, playlist_id="Mix")  # another tag
    assert list(notifications(hass)) == [NOTIFICATION_ID]
    await act(hass, "associate_tag", box, playlist_id="Animals")
    await scan(hass, TAG_A)
    found = notifications(hass)
    assert list(found) == [LINKED_NOTIFICATION_ID]
    assert found[LINKED_NOTIFICATION_ID]["title"] == "Tag linked"
    assert "**Animals** on Music Box" in found[LINKED_NOTIFICATION_ID]["message"]
    # Linked by the action (or the panel's "Link…") rather than by scanning: the same.
    await scan(hass, TAG_B + "-new")
    assert NOTIFICATION_ID in notifications(hass)
    await act(hass, "link_tag", box, tag_id=TAG_B + "-new", playlist_id="Audiobook")
    found = notifications(hass)
    assert NOTIFICATION_ID not in found
    assert "**Audiobook** on Music Box" in found[LINKED_NOTIFICATION_ID]["message"]


async def test_two_boxes_make_one_notification(
    hass: HomeAssistant, entry: MockConfigEntry, second_box: MockConfigEntry
) -> None:
    """One unknown scan, one notification linking both boxes; a box that opted out is left out."""
    await scan(hass, TAG_A)
    (notification,) = notifications(hass).values()
    assert f"/config/devices/device/{box_device(hass, entry)}" in notification["message"]
    assert (
        f"[Attic](/config/devices/device/{box_device(hass, second_box)})"
        in (notification["message"])
    )
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_UNKNOWN_TAG_NOTIFICATION: False}
    )
    await hass.async_block_till_done()
    await scan(hass, TAG_B)
    (notification,) = notifications(hass).values()
    assert f"`{TAG_B}`" in notification["message"]
    assert box_device(hass, entry) not in notification["message"]
    assert notification["title"] == "Unknown tag on Attic"


# The last tag sensor and Home Assistant's tag list -----------------------------------------------


async def test_last_tag_sensor_shows_the_playlist_name(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The state is what the tag plays; an unknown tag leaves it unknown."""
    box = {"config_entry_id": entry.entry_id}
    songs = await act(hass, "create_playlist", **box, name="Animal Songs", track_ids=[])
    await act(hass, "link_tag", **box, tag_id=TAG_A, playlist_id="Animal Songs")
    await scan(hass, TAG_A)
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "Animal Songs"
    assert state.attributes["playlist_id"] == songs["id"]
    await scan(hass, TAG_B)
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "unknown"
    assert state.attributes["known"] is False


async def test_linked_tags_get_a_name_in_home_assistant(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A tag the box links is named after its playlist, unless the parent named it."""
    box = {"config_entry_id": entry.entry_id}
    await scan(hass, TAG_A)  # now in Home Assistant's list, without a name
    assert ha_tag_name(hass, TAG_A) is None
    await act(hass, "link_tag", **box, tag_id=TAG_A, playlist_id="Animals")
    assert ha_tag_name(hass, TAG_A) == "Music Box: Animals"
    await act(hass, "link_tag", **box, tag_id=TAG_A, playlist_id="Mix")  # our name follows
    assert ha_tag_name(hass, TAG_A) == "Music Box: Mix"
    await act(hass, "unlink_tag", **box, tag_id=TAG_A)  # and goes with the link
    assert ha_tag_name(hass, TAG_A) is None

    # A tag linked by its very first scan is named once Home Assistant lists it.
    await act(hass, "associate_tag", **box, playlist_id="Audiobook")
    await scan(hass, TAG_B)
    assert ha_tag_name(hass, TAG_B) == "Music Box: Audiobook"

    # A name the parent gave stays.
    collection = hass.data[tag.TAG_DATA]
    await collection.async_update_item(TAG_B, {"name": "Blue tag"})
    await act(hass, "link_tag", **box, tag_id=TAG_B, playlist_id="Animals")
    assert ha_tag_name(hass, TAG_B) == "Blue tag"

    # A tag Home Assistant never saw is not added to its list.
    await act(hass, "link_tag", **box, tag_id="never-scanned", playlist_id="Animals")
    assert er.async_get(hass).async_get_entity_id("tag", "tag", "never-scanned") is None
