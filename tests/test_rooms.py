"""Sync rooms: the room entity, barrier start, seek, pause, queue, stop, volume, control.

Every member is a real player: local members are libmpv instances on the null audio output
(the device "auto" falls back to it on a machine without a sound card, another name too), and
entity members are a real media_player entity of a test platform. Sync is checked as what it
is, members' fitted audio-pts lines within a couple of milliseconds of each other.
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

from homeassistant.const import STATE_IDLE, STATE_PAUSED, STATE_PLAYING
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import (
    CONF_MAX_VOLUME,
    DOMAIN,
    ROOM_CONTROL_EVERYONE,
    ROOM_CONTROL_USERS,
)
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.sync.leadin import LEAD_IN_SECONDS
from custom_components.open_music_box.sync.timeline import TimelineState, server_time

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
from .target_player import TARGET_ID, TargetPlayer

START_TOLERANCE_SECONDS = 0.002  # where the line puts the start, not how long anything took

# The room entity --------------------------------------------------------------------------------


async def test_room_entity_under_its_own_device(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    registry = er.async_get(hass)
    entity = registry.async_get(ROOM_ENTITY)
    assert entity is not None
    assert entity.unique_id == ROOM_ID
    assert entity.config_subentry_id == ROOM_ID
    devices = dr.async_get(hass)
    box_device = devices.async_get_device(identifiers={(DOMAIN, two_locals.entry_id)})
    room_device = devices.async_get_device(identifiers={(DOMAIN, ROOM_ID)})
    assert box_device is not None
    assert room_device is not None
    assert entity.device_id == room_device.id
    assert room_device.via_device_id == box_device.id
    assert room_device.name == "Living room"
    assert room_device.model == "Sync room"
    assert ROOM_ID in room_device.config_entries_subentries[two_locals.entry_id]

    current = state(hass)
    assert current.state == STATE_IDLE
    assert current.attributes["supported_features"] & 524288  # MediaPlayerEntityFeature.GROUPING
    assert current.attributes["group_members"] == []
    assert current.attributes["room_id"] == ROOM_ID
    assert shown_members(hass) == [
        ("local:auto", "local", "auto", True),
        ("local:null", "local", "null", True),
    ]
    # The box keeps its own player, without grouping.
    assert not state(hass, ENTITY_ID).attributes["supported_features"] & 524288


# Barrier start, seek, pause, queue, stop ---------------------------------------------------------


async def test_barrier_start_keeps_members_together(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    room = room_of(two_locals)
    assert len(room.coordinator.members) == 2
    await play_long(hass, two_locals)
    assert room.coordinator.timeline.state is TimelineState.PLAYING
    assert state(hass).state == STATE_PLAYING
    assert state(hass).attributes["media_title"] == "Tone"
    assert two_locals.runtime_data.player.queue == []  # the box itself plays nothing
    await assert_together(room, settle=1.5)
    for member in local_members(room):
        assert member.seeks == 0


async def test_each_start_puts_every_member_at_the_requested_position(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    """Start, seek and resume: each member's line (its own audio-pts reports, less the
    lead-in) passes through the room's position at the start instant, the unpause's early
    landing trimmed by the lead-in, not left to the corrections."""
    room = room_of(two_locals)

    async def assert_started_on_the_line() -> None:
        timeline = room.coordinator.timeline
        for member in local_members(room):
            await until(lambda m=member: m.mpv.fit.value_at(server_time()) is not None)
            at_start = member.mpv.fit.value_at(timeline.server_time)
            assert at_start == pytest.approx(timeline.position, abs=START_TOLERANCE_SECONDS)
            assert member.mpv.lead_in.shift > LEAD_IN_SECONDS  # silence added: landed early
            assert member.seeks == 0  # not a late start, not a realign

    await play_long(hass, two_locals)
    await assert_started_on_the_line()
    await call(hass, "media_seek", {"seek_position": 12})
    await assert_started_on_the_line()
    await call(hass, "media_pause")
    await call(hass, "media_play")
    await assert_started_on_the_line()


async def test_seek_brings_members_together_at_the_new_position(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await settled_spread(room, 0.5)
    generation = room.coordinator.timeline.generation

    sought_at = server_time()
    await call(hass, "media_seek", {"seek_position": 12})
    timeline = room.coordinator.timeline
    assert timeline.generation > generation
    assert timeline.state is TimelineState.PLAYING
    assert timeline.position == 12.0
    assert state(hass).attributes["media_position"] == 12
    await assert_together(room)
    now = server_time()
    for member in local_members(room):
        measured = member.measure(now)
        assert measured is not None
        # On the new line, not the old one (however long a loaded machine took to settle).
        assert 12.0 < measured[1] < 12.0 + (now - sought_at) + 0.5
        assert member.seeks == 0  # a barrier, not a catch-up


async def test_pause_holds_everyone_at_one_position_and_resume_continues_together(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await settled_spread(room, 0.5)

    await call(hass, "media_pause")
    assert state(hass).state == STATE_PAUSED
    timeline = room.coordinator.timeline
    assert timeline.state is TimelineState.PAUSED
    paused_at = timeline.position
    assert 0.5 < paused_at < 5.0
    assert room.player.position == pytest.approx(paused_at, abs=0.05)
    # Paused for real: mpv's clock stands still. (While paused after a seek, mpv with the null
    # output reports its position minus the dropped buffer, so it is not compared here; where
    # each member resumes from is, below.)
    held = []
    for member in local_members(room):
        assert await mpv_property(hass, member, "pause") is True
        held.append(await mpv_property(hass, member, "time_pos"))
    await asyncio.sleep(0.3)
    assert [await mpv_property(hass, m, "time_pos") for m in local_members(room)] == held

    await call(hass, "media_play")
    assert state(hass).state == STATE_PLAYING
    assert room.coordinator.timeline.position == paused_at  # resumes where it paused
    # Every member on the room's line, which resumed from `paused_at`: they resumed from there.
    await assert_together(room)
    now = server_time()
    for member in local_members(room):
        measured = member.measure(now)
        assert measured is not None
        assert paused_at < measured[1] < paused_at + 3.0


async def test_queue_controls_through_the_room(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    """Shuffle, next, repeat (the room advances at the end of a track), previous, end."""
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    generation = room.coordinator.timeline.generation

    await call(hass, "shuffle_set", {"shuffle": True})
    assert state(hass).attributes["shuffle"] is True
    assert state(hass).attributes["media_title"] == "Tone"  # the current track plays on
    assert room.coordinator.timeline.generation == generation
    await call(hass, "shuffle_set", {"shuffle": False})

    await call(hass, "media_next_track")
    assert state(hass).attributes["media_title"] == "Other"
    for member in local_members(room):
        assert member.mpv.loaded_path is not None
        assert member.mpv.loaded_path.endswith("02 Other.wav")

    # Repeat all: at the end of the 2 s track, the room starts the first one on every member.
    await call(hass, "repeat_set", {"repeat": "all"})
    starts = room.player.track_starts
    await until(lambda: state(hass).attributes.get("media_title") == "Tone", timeout=6)
    assert room.player.track_starts == starts + 1
    assert state(hass).state == STATE_PLAYING
    for member in local_members(room):
        assert member.mpv.loaded_path is not None
        assert member.mpv.loaded_path.endswith("01 Tone.wav")
    await assert_together(room, settle=0.5)

    # Previous at the start of the first track, repeat all: the last one.
    await call(hass, "media_seek", {"seek_position": 0})
    await call(hass, "media_previous_track")
    assert state(hass).attributes["media_title"] == "Other"
    # Repeat off: the end of the last track is the end of the queue.
    await call(hass, "repeat_set", {"repeat": "off"})
    await until(lambda: state(hass).state == STATE_IDLE, timeout=6)
    assert room.coordinator.timeline.state is TimelineState.IDLE
    for member in local_members(room):
        assert member.mpv.loaded_path is None


async def test_stop_and_play_again(hass: HomeAssistant, two_locals: MockConfigEntry) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await call(hass, "media_stop")
    assert state(hass).state == STATE_IDLE
    assert room.coordinator.timeline.state is TimelineState.IDLE
    assert room.coordinator.track is None
    for member in local_members(room):
        assert member.mpv.loaded_path is None
        assert await mpv_property(hass, member, "idle_active") is True

    await call(hass, "media_play")  # the queue stays: it plays again from its track
    assert state(hass).state == STATE_PLAYING
    assert state(hass).attributes["media_title"] == "Tone"
    await assert_together(room)


# Who may control a room --------------------------------------------------------------------------


async def test_room_control_limited_to_listed_users(
    hass: HomeAssistant, tmp_path: Path, speaker: TargetPlayer
) -> None:
    owner = regular_user(hass, "Owner")
    guest = regular_user(hass, "Guest")
    library = sync_library(tmp_path / "library")
    entry = await setup_room_entry(
        hass,
        library,
        room_subentry(local=[("auto", 0.0)], control=ROOM_CONTROL_USERS, users=[owner.id]),
    )
    room = room_of(entry)
    as_guest = Context(user_id=guest.id)
    denied: list[tuple[str, dict[str, Any]]] = [
        (
            "play_media",
            {
                "media_content_id": f"playlist:{playlist_id(entry, 'Long')}",
                "media_content_type": "music",
            },
        ),
        ("volume_set", {"volume_level": 0.1}),
        ("join", {"group_members": [TARGET_ID]}),
        ("unjoin", {}),
    ]
    for service, data in denied:
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, service, data, as_guest)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "room_control_denied"
        assert err.value.translation_placeholders == {"room": "Living room"}
        assert str(err.value).startswith("You are not allowed to control the room Living room")
    assert state(hass).state == STATE_IDLE
    assert room.player.volume == 0.5
    assert room.entity_members == []

    # The listed user may; so may an automation or a script (no user).
    await play_long(hass, entry, Context(user_id=owner.id))
    assert state(hass).state == STATE_PLAYING
    await call(hass, "join", {"group_members": [TARGET_ID]}, Context(user_id=owner.id))
    assert room.entity_members == [TARGET_ID]
    await call(hass, "media_pause", context=Context())
    assert state(hass).state == STATE_PAUSED
    await call(hass, "unjoin", context=Context())
    assert room.entity_members == []
    with pytest.raises(ServiceValidationError):
        await call(hass, "media_play", context=as_guest)
    assert state(hass).state == STATE_PAUSED
    # The room's setting is the room's: the guest still controls the box.
    await call(hass, "volume_set", {"volume_level": 0.2}, as_guest, entity_id=ENTITY_ID)
    assert entry.runtime_data.player.volume == 0.2
    await hass.config_entries.async_unload(entry.entry_id)


# Volume -----------------------------------------------------------------------------------------


async def test_room_volume_applies_to_every_member_capped_by_the_box(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    library = sync_library(tmp_path / "library")
    entry = await setup_room_entry(
        hass,
        library,
        room_subentry(local=[("auto", 0.0), ("null", 0.0)]),
        **{CONF_MAX_VOLUME: 60},
    )
    room = room_of(entry)
    members = local_members(room)

    async def volumes() -> list[float]:
        return [await mpv_property(hass, member, "volume") for member in members]

    async def mutes() -> list[bool]:
        return [await mpv_property(hass, member, "mute") for member in members]

    assert await volumes() == [50.0, 50.0]  # the default volume
    await call(hass, "volume_set", {"volume_level": 0.3})
    assert await volumes() == [30.0, 30.0]
    assert state(hass).attributes["volume_level"] == 0.3
    await call(hass, "volume_set", {"volume_level": 0.9})
    assert state(hass).attributes["volume_level"] == 0.6  # the box's maximum
    assert await volumes() == [60.0, 60.0]
    await call(hass, "volume_mute", {"is_volume_muted": True})
    assert await mutes() == [True, True]
    assert state(hass).attributes["is_volume_muted"] is True
    await call(hass, "volume_mute", {"is_volume_muted": False})
    assert await mutes() == [False, False]
    assert entry.runtime_data.player.volume == 0.5  # the box's own volume is its own
    await hass.config_entries.async_unload(entry.entry_id)


# Diagnostics ------------------------------------------------------------------------------------


async def test_diagnostics_show_the_rooms(hass: HomeAssistant, two_locals: MockConfigEntry) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await settled_spread(room, 0.5)
    diagnostics = await async_get_config_entry_diagnostics(hass, two_locals)
    (shown,) = diagnostics["rooms"]
    assert shown["room_id"] == ROOM_ID
    assert shown["name"] == "Living room"
    assert shown["state"] == "playing"
    assert shown["control"] == ROOM_CONTROL_EVERYONE
    output = shown["output"]
    assert output["type"] == "room"
    assert output["timeline"]["state"] == "playing"
    assert [m["member_id"] for m in output["members"]] == ["local:auto", "local:null"]
    for member in output["members"]:
        assert member["kind"] == "local"
        assert member["seeks"] == 0
        assert member["last_error_ms"] is not None
        assert math.isfinite(member["last_error_ms"])  # measured (how close is the sync tests' job)
        assert member["output"]["type"] == "mpv"
