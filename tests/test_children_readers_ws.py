"""The panel's tag readers: listed and assigned by WebSocket, stored as the options flow stores
them. Real HA core, real libmpv (ao=null), the generated library of tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.children.const import CONF_READERS, READER_BOX
from custom_components.open_music_box.playback.player import PlayState

from .children_helpers import box_of, link, reader, scan
from .helpers.rooms import ROOM_ID, room_subentry, setup_room_entry
from .helpers.ws import ANIMALS, Client

TAG = "04-AA-BB-CC"
ROOM = ROOM_ID


async def box_with_room(hass: HomeAssistant, library: Path) -> MockConfigEntry:
    """A loaded box with one room, "Bedroom"."""
    return await setup_room_entry(hass, library, room_subentry(title="Bedroom"))


async def test_readers_listed_and_assigned_by_websocket(
    hass: HomeAssistant,
    library: Path,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """The readers heard, by device name, newest first; an assignment lands in the options
    (the options flow shows it) and the reader then plays in its room; non-admins are refused."""
    entry = await box_with_room(hass, library)
    admin = Client(await hass_ws_client(hass), entry.entry_id)
    child = Client(await hass_ws_client(hass, hass_read_only_access_token), entry.entry_id)
    await link(hass, entry, TAG, ANIMALS)
    hall, bedroom = reader(hass, "Hall reader"), reader(hass, "Bedroom reader")
    await scan(hass, TAG, hall)
    await scan(hass, TAG, bedroom)
    await box_of(entry).player.async_stop()

    listed = await admin.ok("children/readers")
    assert listed["readers"] == [
        {"device_id": bedroom, "name": "Bedroom reader", "assignment": "none"},
        {"device_id": hall, "name": "Hall reader", "assignment": "none"},
    ]
    assert listed["rooms"] == [{"room_id": ROOM, "name": "Bedroom"}]
    for command, fields in (
        ("children/readers", {}),
        ("children/assign_reader", {"device_id": bedroom, "assignment": ROOM}),
    ):
        refused = await child.error(command, "unauthorized", **fields)
        assert refused["translation_key"] == "admin_only"
    assert CONF_READERS not in entry.options

    result = await admin.ok("children/assign_reader", device_id=bedroom, assignment=ROOM)
    assert result["readers"][0]["assignment"] == ROOM
    await admin.ok("children/assign_reader", device_id=hall, assignment=READER_BOX)
    await hass.async_block_till_done()
    assert entry.options[CONF_READERS] == {bedroom: ROOM, hall: READER_BOX}
    # The options flow shows the same assignments (its reader steps' defaults).
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {})
    assert flow["step_id"] == "reader"
    assert flow["description_placeholders"] == {"reader": "Bedroom reader"}
    assert flow["data_schema"]({})["assign"] == ROOM
    hass.config_entries.options.async_abort(flow["flow_id"])

    await scan(hass, TAG, bedroom)
    box = box_of(entry)
    assert box.rooms[ROOM].player.playlist_id == ANIMALS
    assert box.player.state is PlayState.IDLE

    await admin.ok("children/assign_reader", device_id=bedroom, assignment="none")
    await admin.ok("children/assign_reader", device_id=hall, assignment="none")
    await hass.async_block_till_done()
    assert CONF_READERS not in entry.options  # as the options flow leaves it
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {})
    assert flow["type"] is FlowResultType.FORM
    assert flow["data_schema"]({})["assign"] == "none"
    hass.config_entries.options.async_abort(flow["flow_id"])


async def test_unknown_reader_or_room_is_a_translated_error(
    hass: HomeAssistant, library: Path, hass_ws_client: WebSocketGenerator
) -> None:
    """A reader the box never heard, a room it does not have: translated errors, nothing
    stored, and the connection keeps working."""
    entry = await box_with_room(hass, library)
    admin = Client(await hass_ws_client(hass), entry.entry_id)
    heard = reader(hass, "Hall reader")
    await scan(hass, TAG, heard)

    unheard = reader(hass, "Never scanned")
    error = await admin.error(
        "children/assign_reader", "reader_not_found", device_id=unheard, assignment="box"
    )
    assert unheard in error["message"]
    await admin.error(
        "children/assign_reader", "room_not_found", device_id=heard, assignment="nope"
    )
    assert CONF_READERS not in entry.options
    await admin.works()
