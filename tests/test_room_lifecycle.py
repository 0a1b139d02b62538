"""Sync rooms across restarts, reconfiguration, added and removed rooms; a tag plays in a room.

Every member is a real player: local members are libmpv instances on the null audio output
(the device "auto" falls back to it on a machine without a sound card, another name too), and
entity members are a real media_player entity of a test platform. Sync is checked as what it
is, members' fitted audio-pts lines within a couple of milliseconds of each other.
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

import asyncio
from pathlib import Path
from types import MappingProxyType

from homeassistant.components import tag
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import STATE_IDLE, STATE_PAUSED, STATE_PLAYING
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import (
    CONF_AUDIO_DEVICE,
    CONF_LIBRARY_PATH,
    CONF_OFFSET_MS,
    CONF_ROOM_CONTROL,
    CONF_ROOM_CONTROL_USERS,
    CONF_ROOM_ENTITY_MEMBERS,
    CONF_ROOM_LOCAL_DEVICES,
    DOMAIN,
    ROOM_CONTROL_EVERYONE,
    ROOM_CONTROL_USERS,
    SUBENTRY_ROOM,
)
from custom_components.open_music_box.sync.local_member import LocalMember
from custom_components.open_music_box.sync.timeline import TimelineState

from .conftest import ENTITY_ID
from .helpers.player import playlist_id
from .helpers.rooms import (  # noqa: F401 (fixtures)
    INTERNAL_URL,
    ROOM_ENTITY,
    ROOM_ID,
    assert_together,
    call,
    local_members,
    mpv_property,
    play_long,
    regular_user,
    room_of,
    room_subentry,
    settled_spread,
    setup_room_entry,
    shown_members,
    speaker,
    state,
    sync_library,
    two_locals,
    until,
)

# Restart, reconfigure, add and remove rooms ------------------------------------------------------


async def test_room_comes_back_paused_after_a_restart(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await call(hass, "repeat_set", {"repeat": "all"})
    await call(hass, "volume_set", {"volume_level": 0.35})
    await call(hass, "media_seek", {"seek_position": 12})
    queue = [track.id for track in room.player.queue]
    await asyncio.sleep(0.2)

    assert await hass.config_entries.async_unload(two_locals.entry_id)
    assert await hass.config_entries.async_setup(two_locals.entry_id)
    await hass.async_block_till_done()

    again = room_of(two_locals)
    assert again is not room
    assert [track.id for track in again.player.queue] == queue
    assert again.player.playlist_id == playlist_id(two_locals, "Long")
    current = state(hass)
    assert current.state == STATE_PAUSED
    assert current.attributes["media_title"] == "Tone"
    assert current.attributes["repeat"] == "all"
    assert current.attributes["volume_level"] == 0.35
    timeline = again.coordinator.timeline
    assert timeline.state is TimelineState.PAUSED
    assert 12.0 < timeline.position < 13.5
    assert sorted(again.coordinator.members) == ["local:auto", "local:null"]
    for member in local_members(again):
        assert await mpv_property(hass, member, "pause") is True
        assert await mpv_property(hass, member, "time_pos") == pytest.approx(
            timeline.position, abs=0.002
        )
        assert await mpv_property(hass, member, "volume") == 35.0

    await call(hass, "media_play")
    await assert_together(again)


async def test_room_queue_not_restored_when_its_tracks_are_gone(
    hass: HomeAssistant, two_locals: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    await play_long(hass, two_locals)
    assert await hass.config_entries.async_unload(two_locals.entry_id)
    library = Path(two_locals.data[CONF_LIBRARY_PATH])
    (library / "Long" / "02 Other.wav").unlink()
    assert await hass.config_entries.async_setup(two_locals.entry_id)
    await hass.async_block_till_done()
    room = room_of(two_locals)
    assert state(hass).state == STATE_IDLE
    assert room.player.queue == []
    assert len(room.coordinator.members) == 2  # the room itself is back
    assert "its queue changed on disk, not restored" in caplog.text


async def test_reconfigured_room_applies_in_place(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    """A new offset and a device removed: same room, same box, no reload, still playing."""
    box = two_locals.runtime_data
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await settled_spread(room, 0.5)
    removed = room.coordinator.members["local:null"]
    assert isinstance(removed, LocalMember)
    subentry = two_locals.subentries[ROOM_ID]
    data = dict(subentry.data)
    data[CONF_ROOM_LOCAL_DEVICES] = [{CONF_AUDIO_DEVICE: "auto", CONF_OFFSET_MS: 300.0}]
    assert hass.config_entries.async_update_subentry(
        two_locals, subentry, data=data, title="Lounge"
    )
    await hass.async_block_till_done()

    assert two_locals.runtime_data is box
    assert room_of(two_locals) is room
    assert room.name == "Lounge"
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, ROOM_ID)})
    assert device is not None
    assert device.name == "Lounge"
    assert state(hass).attributes["friendly_name"] == "Lounge"
    assert list(room.coordinator.members) == ["local:auto"]
    assert removed.mpv.mpv is None  # its libmpv is released
    assert state(hass).state == STATE_PLAYING
    kept = room.coordinator.members["local:auto"]
    assert kept.offset == pytest.approx(0.3)
    # Fed 300 ms early now: realigned (beyond a trim), and on the room's line with its offset.
    await until(lambda: kept.seeks >= 1, timeout=5)
    await assert_together(room, settle=0.5)


async def test_adding_and_removing_a_room(hass: HomeAssistant, two_locals: MockConfigEntry) -> None:
    subentry = ConfigSubentry(
        data=MappingProxyType(
            {
                CONF_ROOM_CONTROL: ROOM_CONTROL_EVERYONE,
                CONF_ROOM_CONTROL_USERS: [],
                CONF_ROOM_LOCAL_DEVICES: [],
                CONF_ROOM_ENTITY_MEMBERS: [],
            }
        ),
        subentry_type=SUBENTRY_ROOM,
        title="Kitchen",
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(two_locals, subentry)
    await hass.async_block_till_done()
    box = two_locals.runtime_data
    assert set(box.rooms) == {ROOM_ID, subentry.subentry_id}
    kitchen = er.async_get(hass).async_get("media_player.kitchen")
    assert kitchen is not None
    assert kitchen.unique_id == subentry.subentry_id
    assert state(hass, "media_player.kitchen").state == STATE_IDLE
    assert state(hass).state == STATE_IDLE  # the first room is back too

    assert hass.config_entries.async_remove_subentry(two_locals, subentry.subentry_id)
    await hass.async_block_till_done()
    assert set(two_locals.runtime_data.rooms) == {ROOM_ID}
    assert hass.states.get("media_player.kitchen") is None
    assert er.async_get(hass).async_get("media_player.kitchen") is None
    assert dr.async_get(hass).async_get_device(identifiers={(DOMAIN, subentry.subentry_id)}) is None


# A tag starts a playlist in a room ---------------------------------------------------------------


async def test_tag_plays_a_playlist_in_the_room(hass: HomeAssistant, tmp_path: Path) -> None:
    """An automation (tag → play_media on the room) may control a room limited to one user."""
    owner = regular_user(hass, "Owner")
    library = sync_library(tmp_path / "library")
    entry = await setup_room_entry(
        hass,
        library,
        room_subentry(
            local=[("auto", 0.0), ("null", 0.0)], control=ROOM_CONTROL_USERS, users=[owner.id]
        ),
    )
    room = room_of(entry)
    long_id = playlist_id(entry, "Long")
    assert await async_setup_component(hass, "tag", {})
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": "Tag plays in the living room",
                    "triggers": [{"trigger": "tag", "tag_id": "04a1b2c3d4"}],
                    "actions": [
                        {
                            "action": "media_player.play_media",
                            "target": {"entity_id": ROOM_ENTITY},
                            "data": {
                                "media_content_id": f"playlist:{long_id}",
                                "media_content_type": "playlist",
                            },
                        }
                    ],
                }
            ]
        },
    )
    await hass.async_block_till_done()
    await tag.async_scan_tag(hass, "04a1b2c3d4", None)
    await until(lambda: state(hass).state == STATE_PLAYING)
    assert room.player.playlist_id == long_id
    assert state(hass).attributes["media_playlist"] == "Long"
    assert state(hass, ENTITY_ID).state == STATE_IDLE  # the box itself does not play
    await assert_together(room)
    await hass.config_entries.async_unload(entry.entry_id)
