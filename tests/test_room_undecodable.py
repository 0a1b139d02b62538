"""A room meets a track nothing can decode: it says so and plays on, like the box does.

Real HA core, a room of one local libmpv member (null audio output), a WebSocket subscriber.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from .audio import make_track, undecodable_wav
from .helpers.hub import connect
from .helpers.player import playlist_id
from .helpers.rooms import ROOM_ID, call, room_of, room_subentry, setup_room_entry, until


@pytest.fixture(params=[0, 1], ids=["first", "after an advance"])
async def room_entry(
    hass: HomeAssistant, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncGenerator[MockConfigEntry]:
    """A box whose Mixed playlist has an undecodable track (first, or after a short one) before
    a long one, and a room of one member."""
    library = tmp_path / "library"
    if request.param:
        make_track(library / "Mixed" / "00 Short.wav", 1.0, freq=330, title="Short")
    undecodable_wav(library / "Mixed" / "01 Broken.wav")
    make_track(library / "Mixed" / "02 Good.wav", 20.0, freq=440, title="Good")
    entry = await setup_room_entry(hass, library, room_subentry(local=[("null", 0.0)]))
    yield entry
    if entry.state.recoverable:
        await hass.config_entries.async_unload(entry.entry_id)


async def test_an_undecodable_track_in_a_room_is_reported_and_skipped(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    conn = await connect(hass_ws_client, room_entry)
    sub = await conn.subscribe()
    await conn.event(sub)  # the snapshot
    mixed = playlist_id(room_entry, "Mixed")
    await call(
        hass,
        "play_media",
        {"media_content_id": f"playlist:{mixed}", "media_content_type": "music"},
    )
    events = await conn.until(sub, lambda e: e["type"] == "room" and "skipped" in e["data"])
    skipped = events[-1]["data"]["skipped"]
    assert events[-1]["data"]["room_id"] == ROOM_ID
    assert skipped["track"]["title"] == "01 Broken"
    assert skipped["reason"]
    assert "Cannot play" in caplog.text
    assert "01 Broken.wav" in caplog.text
    # And it plays on: the next track, on the room's line.
    room = room_of(room_entry)
    await until(lambda: room.player.current is not None and room.player.current.title == "Good")
