"""The live stream keeps its contract: one position timer; the queue in an event of its own.

One timer per box: a play/seek/track change that publishes its position early must replace the
pending 200 ms tick, never add a second chain of ticks. Real HA core, real libmpv (null audio),
short generated tracks on repeat all, a real WebSocket subscriber.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import itertools
from pathlib import Path
from typing import Any

from homeassistant.components.media_player import RepeatMode
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.events import POSITION_INTERVAL, POSITION_MIN_GAP, LiveState

from .audio import write_wav
from .conftest import box_entry
from .helpers.hub import CLOCK_READ_SLACK, TIMEOUT, Conn, connect, server_time
from .helpers.rooms import ROOM_ID, call, play_long, room_subentry, setup_room_entry, sync_library

TRACK_SECONDS = 0.6
TRACK_CHANGES = 30
SEEK_OFFSETS = [step * POSITION_INTERVAL / 10 for step in range(10)]  # the whole 200 ms cycle


async def short_tracks_box(hass: HomeAssistant, tmp_path: Path) -> MockConfigEntry:
    """A box whose one album is three short tracks."""
    library = tmp_path / "library"
    for index in range(3):
        write_wav(library / "Short" / f"{index + 1:02d}.wav", TRACK_SECONDS, freq=300 + 60 * index)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    entry = box_entry(library)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def pending(hass: HomeAssistant, function: Any) -> int:
    """Count the timers waiting in the event loop to call `function` (not only those held)."""
    scheduled: list[asyncio.TimerHandle] = hass.loop._scheduled  # type: ignore[attr-defined]
    return sum(
        1
        for handle in scheduled
        if not handle.cancelled() and handle._callback == function  # type: ignore[attr-defined]
    )


def pending_ticks(hass: HomeAssistant, live: LiveState) -> int:
    """Count the position timers waiting in the event loop (not only the live state's)."""
    return pending(hass, live.positions._tick)


async def test_one_position_timer_through_track_changes_and_seeks(
    hass: HomeAssistant, tmp_path: Path, hass_ws_client: WebSocketGenerator
) -> None:
    """Seeks at every offset of the 200 ms cycle and 30 track changes leave one steady stream."""
    entry = await short_tracks_box(hass, tmp_path)
    box = entry.runtime_data
    live: LiveState = box.live
    conn: Conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    assert (await conn.event(sub))["type"] == "snapshot"
    await conn.command("player/repeat", repeat=RepeatMode.ALL.value)
    await conn.command("player/play_playlist", playlist_id=box.catalog.playlists()[0].id)

    events: list[dict[str, Any]] = []
    timers: list[int] = []

    async def next_position() -> dict[str, Any]:
        while True:
            event = await conn.event(sub)
            events.append(event)
            if event["type"] == "position":
                timers.append(pending_ticks(hass, live))
                return event

    await next_position()
    requests = 0
    # A seek at each offset after a tick: the ones 150-200 ms after it published at once.
    for offset in SEEK_OFFSETS:
        await next_position()
        await asyncio.sleep(offset)
        await conn.command("player/seek", position_ms=50)
        requests += 1
    starts = box.player.track_starts
    async with asyncio.timeout(TIMEOUT + TRACK_CHANGES * TRACK_SECONDS * 4):
        while box.player.track_starts - starts < TRACK_CHANGES:
            await next_position()
    requests += box.player.track_starts - starts

    stream = [e for e in events if e["type"] == "position"]
    assert all(e["data"]["playing"] for e in stream)
    assert len({e["data"]["track_id"] for e in stream}) == 3  # it went round the album
    times = [server_time(e) for e in stream]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= timedelta(seconds=POSITION_MIN_GAP) - CLOCK_READ_SLACK
    # One timer: a tick every 200 ms, and a request brings one at most 50 ms early.
    elapsed = (times[-1] - times[0]).total_seconds()
    assert len(stream) - 1 <= elapsed / POSITION_INTERVAL + requests / 4 + 2
    assert set(timers) == {1}
    assert live.positions.timer is not None
    await conn.command("player/pause")
    await conn.until(sub, lambda e: e["type"] == "position" and not e["data"]["playing"])
    assert pending_ticks(hass, live) == 0  # the stream stopped, no stray chain goes on
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_room_queue_goes_out_on_its_own(
    hass: HomeAssistant, tmp_path: Path, hass_ws_client: WebSocketGenerator
) -> None:
    """Room events carry the room's state; its queue comes in room_queue events and snapshots."""
    entry = await setup_room_entry(
        hass, sync_library(tmp_path / "library"), room_subentry(local=[("null", 0.0)])
    )
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    await play_long(hass, entry)
    for volume in (0.3, 0.4):
        await call(hass, "volume_set", {"volume_level": volume})
    room = entry.runtime_data.rooms[ROOM_ID]
    # A room streams no positions of its own; its timers (corrections, end of track): one each.
    assert pending(hass, room.coordinator._on_tick) == 1
    assert pending(hass, room.output._on_end) == 1
    assert pending_ticks(hass, entry.runtime_data.live) == 0  # the box itself is not playing
    events = await conn.through(sub, entry.runtime_data.events.seq)
    tone, other = (track.id for track in room.player.queue)
    queues = [e["data"] for e in events if e["type"] == "room_queue"]
    assert queues == [{"room_id": ROOM_ID, "queue": [tone, other]}]  # not with the volume steps
    states = [e["data"] for e in events if e["type"] == "room"]
    assert [state["player"]["volume"] for state in states][-2:] == [0.3, 0.4]
    assert all("queue" not in state["player"] for state in states)

    late = await connect(hass_ws_client, entry)
    late_sub = await late.subscribe()
    (shown,) = (await late.event(late_sub))["data"]["rooms"]
    assert (shown["room_id"], shown["queue"]) == (ROOM_ID, [tone, other])
    assert await hass.config_entries.async_unload(entry.entry_id)
