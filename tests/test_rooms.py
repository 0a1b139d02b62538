"""Sync rooms with real libmpv members: barrier start, seek, pause, stall, restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import (
    CONF_AUDIO_DEVICE,
    CONF_OFFSET_MS,
    CONF_ROOM_CONTROL,
    CONF_ROOM_CONTROL_USERS,
    CONF_ROOM_ENTITY_MEMBERS,
    CONF_ROOM_LOCAL_DEVICES,
    ROOM_CONTROL_EVERYONE,
    SUBENTRY_ROOM,
)
from custom_components.open_music_box.sync.room import Room
from custom_components.open_music_box.sync.timeline import TimelineState, server_time

from .audio import make_track
from .conftest import box_entry
from .test_media_player import playlist_id

ROOM_ID = "room1"
ROOM_ENTITY = "media_player.living_room"


def room_subentry(
    local: list[tuple[str, float]] | None = None,
    control: str = ROOM_CONTROL_EVERYONE,
    users: list[str] | None = None,
    entities: list[str] | None = None,
) -> ConfigSubentryDataWithId:
    """The subentry of a room named Living room."""
    return ConfigSubentryDataWithId(
        subentry_id=ROOM_ID,
        subentry_type=SUBENTRY_ROOM,
        title="Living room",
        unique_id=None,
        data={
            CONF_ROOM_CONTROL: control,
            CONF_ROOM_CONTROL_USERS: users or [],
            CONF_ROOM_LOCAL_DEVICES: [
                {CONF_AUDIO_DEVICE: device, CONF_OFFSET_MS: offset}
                for device, offset in (local or [])
            ],
            CONF_ROOM_ENTITY_MEMBERS: [
                {"entity_id": entity_id, CONF_OFFSET_MS: 0.0} for entity_id in entities or []
            ],
        },
    )


def sync_library(root: Path) -> Path:
    """A library with one long track (the room needs time to measure)."""
    make_track(root / "Long" / "01 Tone.wav", 30.0, freq=440, title="Tone")
    make_track(root / "Long" / "02 Other.wav", 2.0, freq=330, title="Other")
    return root


async def setup_room_entry(
    hass: HomeAssistant, library: Path, subentry: ConfigSubentryDataWithId, **options: Any
) -> MockConfigEntry:
    """Load a box with one room."""
    hass.config.allowlist_external_dirs = {str(library.parent)}
    entry = box_entry(library, **options)
    entry.subentries_data = ()  # type: ignore[attr-defined]
    entry = MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options=dict(entry.options),
        subentries_data=[subentry],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def room_of(entry: MockConfigEntry) -> Room:
    return entry.runtime_data.rooms[ROOM_ID]  # type: ignore[no-any-return]


async def until(predicate: Any, timeout: float = 10.0) -> None:
    """Wait (real time) until predicate() is true."""
    deadline = server_time() + timeout
    while not predicate():
        assert server_time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def spread_ms(room: Room) -> float | None:
    """The largest difference between members' fitted positions now, in ms."""
    now = server_time()
    positions = []
    for member in room.coordinator.members.values():
        measured = member.measure(now)
        if measured is None:
            return None
        positions.append(measured[1] - member.offset)
    return (max(positions) - min(positions)) * 1000


@pytest.fixture
async def two_locals(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[MockConfigEntry]:
    library = sync_library(tmp_path / "library")
    entry = await setup_room_entry(
        hass, library, room_subentry(local=[("auto", 0.0), ("null", 0.0)])
    )
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


async def test_barrier_start_keeps_members_together(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    room = room_of(two_locals)
    assert len(room.coordinator.members) == 2
    await hass.services.async_call(
        "media_player",
        "play_media",
        {
            "entity_id": ROOM_ENTITY,
            "media_content_id": f"playlist:{playlist_id(two_locals, 'Long')}",
            "media_content_type": "music",
        },
        blocking=True,
    )
    assert room.coordinator.timeline.state is TimelineState.PLAYING
    await until(lambda: spread_ms(room) is not None)
    await asyncio.sleep(1.5)
    spread = spread_ms(room)
    assert spread is not None and spread < 2.0, spread
