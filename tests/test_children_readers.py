"""Readers belong to a box or a room: two children, two boxes, two readers. Real HA, real libmpv."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.open_music_box.children.const import CONF_READERS, READER_BOX
from custom_components.open_music_box.library import folder_playlist_id
from custom_components.open_music_box.playback.player import PlayState
from custom_components.open_music_box.tags import EVENT_TAG_UNKNOWN

from .children_helpers import add_box, box_of, link, reader, scan, set_options
from .conftest import build_library
from .helpers.rooms import room_subentry, setup_room_entry

ANIMALS = folder_playlist_id("Animals")
TAG = "04-AA-BB-CC"


async def two_boxes(hass: HomeAssistant, tmp_path: Path) -> tuple[MockConfigEntry, ...]:
    """Alice's and Bob's boxes, each on its own library, with TAG linked on both."""
    alice = await add_box(hass, build_library(tmp_path / "a" / "library"), "Alice")
    bob = await add_box(hass, build_library(tmp_path / "b" / "library"), "Bob")
    for entry in (alice, bob):
        await link(hass, entry, TAG, ANIMALS)
    return alice, bob


async def test_each_childs_reader_starts_their_own_box(hass: HomeAssistant, tmp_path: Path) -> None:
    """A reader assigned to a box starts only that box; an unassigned one starts both."""
    alice, bob = await two_boxes(hass, tmp_path)
    alice_reader, bob_reader = reader(hass, "Alice's reader"), reader(hass, "Bob's reader")
    await set_options(hass, alice, **{CONF_READERS: {alice_reader: READER_BOX}})
    await set_options(hass, bob, **{CONF_READERS: {bob_reader: READER_BOX}})

    await scan(hass, TAG, alice_reader)
    assert box_of(alice).player.state is PlayState.PLAYING
    assert box_of(bob).player.state is PlayState.IDLE
    assert box_of(bob).tags.last_scan is None  # not even heard

    await box_of(alice).player.async_stop()
    await scan(hass, TAG, bob_reader)
    assert box_of(bob).player.state is PlayState.PLAYING
    assert box_of(alice).player.state is PlayState.IDLE

    # A reader nobody assigned: every box hears it, as before.
    await box_of(bob).player.async_stop()
    await scan(hass, TAG, reader(hass, "Hall reader"))
    assert box_of(alice).player.state is PlayState.PLAYING
    assert box_of(bob).player.state is PlayState.PLAYING


async def test_unknown_tag_on_another_childs_reader(hass: HomeAssistant, tmp_path: Path) -> None:
    """An unknown tag on Alice's reader is Alice's box's business only; a tag Bob's box knows
    but scanned on Alice's reader is unknown to Alice's box, and Bob's box stays quiet."""
    alice, bob = await two_boxes(hass, tmp_path)
    alice_reader = reader(hass, "Alice's reader")
    await set_options(hass, alice, **{CONF_READERS: {alice_reader: READER_BOX}})
    unknown = async_capture_events(hass, EVENT_TAG_UNKNOWN)

    await scan(hass, "04-NEW", alice_reader)
    assert [event.data["entry_id"] for event in unknown] == [alice.entry_id]

    await link(hass, bob, "04-BOBS", ANIMALS)
    await scan(hass, "04-BOBS", alice_reader)
    assert [event.data["entry_id"] for event in unknown] == [alice.entry_id] * 2
    assert box_of(bob).player.state is PlayState.IDLE


async def test_options_flow_lists_and_assigns_the_readers(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """The options list the readers heard by their device names, one step each."""
    alice, bob = await two_boxes(hass, tmp_path)
    alice_reader, hall = reader(hass, "Alice's reader"), reader(hass, "Hall reader")
    await scan(hass, TAG, hall)
    await scan(hass, TAG, alice_reader)

    result = await hass.config_entries.options.async_init(alice.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reader"
    assert result["description_placeholders"] == {"reader": "Alice's reader"}  # newest first
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"assign": READER_BOX}
    )
    assert result["description_placeholders"] == {"reader": "Hall reader"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"assign": "none"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert alice.options[CONF_READERS] == {alice_reader: READER_BOX}

    await box_of(alice).player.async_stop()
    await box_of(bob).player.async_stop()
    await scan(hass, TAG, alice_reader)
    assert box_of(alice).player.state is PlayState.PLAYING
    assert box_of(bob).player.state is PlayState.IDLE


async def test_a_reader_assigned_to_a_room_plays_there(hass: HomeAssistant, library: Path) -> None:
    """A tag linked to the box, scanned on the room's reader, plays in the room."""
    entry = await setup_room_entry(hass, library, room_subentry(title="Bedroom"))
    bedroom_reader = reader(hass, "Bedroom reader")
    await set_options(hass, entry, **{CONF_READERS: {bedroom_reader: "room1"}})
    await link(hass, entry, TAG, ANIMALS)

    await scan(hass, TAG, bedroom_reader)
    box = box_of(entry)
    assert box.rooms["room1"].player.playlist_id == ANIMALS
    assert box.player.state is PlayState.IDLE
