"""An audiobook's resume point belongs to the audiobook: two boxes on the same library folder and a
room of one of them continue it where any of them stopped. Real HA core, real libmpv."""

from __future__ import annotations

from pathlib import Path

from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.box import MusicBox
from custom_components.open_music_box.children.resume import PlaylistMode
from custom_components.open_music_box.const import DOMAIN, SUBENTRY_ROOM
from custom_components.open_music_box.library import folder_playlist_id, track_id
from custom_components.open_music_box.playback.player import Player

from .children_helpers import add_box, box_of
from .conftest import box_entry

AUDIOBOOK = folder_playlist_id("Audiobook")
CHAPTER_1, CHAPTER_2 = (track_id(f"Audiobook/Chapter {n}.wav") for n in (1, 2))
ROOM_ID = "bedroom"


async def add_box_with_room(hass: HomeAssistant, library: Path) -> MockConfigEntry:
    """Load a box named Bob with a room (no members needed to follow its queue)."""
    room = ConfigSubentryDataWithId(
        subentry_id=ROOM_ID,
        subentry_type=SUBENTRY_ROOM,
        title="Bedroom",
        unique_id=None,
        data={
            "control": "everyone",
            "control_users": [],
            "local_devices": [],
            "entity_members": [],
        },
    )
    base = box_entry(library)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Bob",
        unique_id="Bob",
        data=dict(base.data),
        options=dict(base.options),
        subentries_data=[room],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def stop_at(hass: HomeAssistant, box: MusicBox, player: Player, seconds: float) -> None:
    """Start the audiobook on `player` (resuming), seek to `seconds` of chapter 2, stop."""
    await box.async_play_playlist(AUDIOBOOK, player=player)
    await player.async_next()
    await player.async_seek(seconds)
    await player.async_stop()
    await hass.async_block_till_done()


async def test_resume_follows_the_audiobook_across_boxes_and_rooms(
    hass: HomeAssistant, library: Path
) -> None:
    """Started on Alice's box, continued on Bob's, then in Bob's room, then on Alice's again."""
    alice_entry = await add_box(hass, library, "Alice")
    bob_entry = await add_box_with_room(hass, library)
    alice, bob = box_of(alice_entry), box_of(bob_entry)
    room = bob.rooms[ROOM_ID]

    # Made an audiobook on one box: it is one on every box of the folder.
    alice.set_playlist_mode(AUDIOBOOK, PlaylistMode.AUDIOBOOK)
    assert bob.resume.mode(AUDIOBOOK) is PlaylistMode.AUDIOBOOK

    await stop_at(hass, alice, alice.player, 6.0)
    await bob.async_play_playlist(AUDIOBOOK)
    assert bob.player.current is not None
    assert bob.player.current.id == CHAPTER_2
    assert bob.player.position == pytest.approx(6.0, abs=0.5)
    await bob.player.async_seek(9.0)
    await bob.player.async_stop()

    # In the room of Bob's box: from where Bob's box stopped; the room's own stop is kept too.
    await bob.async_play_playlist(AUDIOBOOK, player=room.player)
    assert room.player.current is not None
    assert room.player.current.id == CHAPTER_2
    assert room.player.position == pytest.approx(9.0, abs=0.5)
    await room.player.async_seek(13.0)
    await room.player.async_stop()
    await hass.async_block_till_done()

    await alice.async_play_playlist(AUDIOBOOK)
    assert alice.player.current is not None
    assert alice.player.current.id == CHAPTER_2
    assert alice.player.position == pytest.approx(13.0, abs=0.5)


async def test_finished_on_one_box_starts_over_on_the_other(
    hass: HomeAssistant, library: Path
) -> None:
    """An audiobook made an album on one box forgets its points on every box."""
    alice_entry = await add_box(hass, library, "Alice")
    bob_entry = await add_box(hass, library, "Bob")
    alice, bob = box_of(alice_entry), box_of(bob_entry)
    bob.set_playlist_mode(AUDIOBOOK, PlaylistMode.AUDIOBOOK)
    await stop_at(hass, alice, alice.player, 5.0)
    assert bob.resume.point(AUDIOBOOK) is not None

    alice.set_playlist_mode(AUDIOBOOK, PlaylistMode.ALBUM)
    assert bob.resume.mode(AUDIOBOOK) is PlaylistMode.ALBUM
    assert bob.resume.point(AUDIOBOOK) is None
    await bob.async_play_playlist(AUDIOBOOK)
    assert bob.player.current is not None
    assert bob.player.current.id == CHAPTER_1
