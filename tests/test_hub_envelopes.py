"""The live-state hub's envelopes: their fields, slow subscribers, diagnostics, unloading.

Real Home Assistant core, real WebSocket clients (`hass_ws_client`) and a real libmpv box
(null audio output) on a generated library.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from homeassistant.components.websocket_api.const import MAX_PENDING_MSG
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    WebSocketGenerator,
)

from custom_components.open_music_box.catalog import CatalogChange, ChangeKind
from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.events import (
    POSITION_MIN_GAP,
    REPLAY_BUFFER_SIZE,
    SEQ_BLOCK,
)

from .conftest import ENTITY_ID
from .helpers.hub import (
    check_envelope,
    connect,
    consecutive,
    hub_of,
    live_of,
    server_time,
    set_volume,
)
from .helpers.player import playlist_id, track_id

# Envelopes -----------------------------------------------------------------


async def test_envelope_on_every_event_type(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Snapshot, queue, player, position, playlists, playlist and library events: one envelope."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    snapshot = await conn.event(sub)
    check_envelope(snapshot)
    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] == hub_of(entry).seq
    seen: list[dict[str, Any]] = []

    async def run(command: str, /, **data: Any) -> Any:
        result = await conn.command(command, **data)
        events = await conn.through(sub, result["seq"])
        if command.startswith("player/") and events[-1]["type"] != "position":
            # Its position may wait for the 150 ms gap after the previous one.
            events += await conn.until(sub, lambda e: e["type"] == "position")
        seen.extend(events)
        return result

    await run("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    await run("player/pause")
    created = await run("playlists/create", name="Fav")
    cow, dog = track_id(entry, "Cow"), track_id(entry, "Dog")
    await run("playlists/add_tracks", playlist_id=created["id"], track_ids=[cow])
    await run("playlists/add_tracks", playlist_id=created["id"], track_ids=[dog], position=0)
    await run("rescan")

    for envelope in seen:
        check_envelope(envelope)
    consecutive(seen, snapshot["seq"])
    assert len({e["event_id"] for e in [snapshot, *seen]}) == len(seen) + 1
    assert [e["type"] for e in seen] == [
        "queue",  # play_playlist
        "player",
        "position",
        "player",  # pause
        "position",
        "playlists",  # create
        "playlist",  # add_tracks
        "playlist",
        "library",  # rescan
        "playlists",
    ]
    times = [server_time(e) for e in seen]
    assert times == sorted(times)

    queue, playing, _, paused, position, index, first, second, library, _ = seen
    chapters = [track_id(entry, "Chapter 1"), track_id(entry, "Chapter 2")]
    assert queue["data"] == {"queue": chapters}
    assert "queue" not in playing["data"]
    assert playing["data"]["queue_position"] == 0
    assert playing["data"]["state"] == "playing"
    assert playing["data"]["track"]["title"] == "Chapter 1"
    assert playing["data"]["playlist_id"] == playlist_id(entry, "Audiobook")
    assert paused["data"]["state"] == "paused"
    assert position["data"]["playing"] is False
    assert position["data"]["track_id"] == playing["data"]["track"]["track_id"]
    assert position["data"]["duration_ms"] == 20000
    assert created["id"] in [p["id"] for p in index["data"]["playlists"]]
    assert first["data"]["id"] == created["id"]
    assert first["data"]["track_ids"] == [cow]
    assert second["data"]["track_ids"] == [dog, cow]
    # playlist_seq counts the changes of that one playlist
    assert (first["playlist_seq"], second["playlist_seq"]) == (1, 2)
    assert library["data"] == {"available": True, "tracks": 5, "playlists": 4, "skipped": 0}


async def test_queue_event_only_when_the_queue_changes(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Player events carry the state only; the queue goes out when it changes, and is replayed."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    start = (await conn.event(sub))["seq"]
    dog, cat, cow = (track_id(entry, title) for title in ("Dog", "Cat", "Cow"))
    await conn.command("player/play_playlist", playlist_id=playlist_id(entry, "Animals"))
    await conn.command("player/pause")
    for volume in (0.2, 0.3, 0.4):
        await conn.command("player/volume", volume=volume)
    await conn.command("player/next")
    await conn.command("player/shuffle", shuffle=True)
    done = await conn.command("player/shuffle", shuffle=False)
    events = await conn.through(sub, done["seq"])
    queues = [e["data"]["queue"] for e in events if e["type"] == "queue"]
    # Play, shuffle on (new order, same tracks), shuffle off: not the volume steps, not next.
    assert len(queues) == 3
    assert queues[0] == queues[2] == [dog, cat, cow]
    assert sorted(queues[1]) == sorted(queues[0])
    players = [e["data"] for e in events if e["type"] == "player"]
    assert len(players) >= 6
    assert all("queue" not in state for state in players)

    # A client that missed it all gets the queue event replayed, exactly once, in order.
    late = await connect(hass_ws_client, entry)
    late_sub = await late.subscribe(since_seq=start)
    replayed = await late.through(late_sub, done["seq"])
    assert replayed == events


# Slow subscribers -----------------------------------------------------------------


async def test_a_stalled_subscriber_does_not_hold_up_the_others(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A client that stops reading fills its own queue (HA then drops it); the others get all."""
    hub = hub_of(entry)
    stalled = await connect(hass_ws_client, entry)
    await stalled.subscribe()  # and never reads again
    reader = await connect(hass_ws_client, entry)
    sub = await reader.subscribe()
    start = (await reader.event(sub))["seq"]
    cow = track_id(entry, "Cow")
    entries = [cow] * 5000
    big = await reader.command("playlists/create", name="Big", track_ids=entries)
    received = [await reader.event(sub)]
    # Big playlist events first (~100 kB each): they fill the stalled socket's buffers...
    for _ in range(400):
        await hass.services.async_call(
            DOMAIN,
            "reorder_playlist",
            {"config_entry_id": entry.entry_id, "playlist_id": big["id"], "track_ids": entries},
            blocking=True,
        )
        received.append(await reader.event(sub))
    assert hub.subscriber_count == 2
    # ...then HA queues for it alone, until it gives up on that client.
    for i in range(2 * MAX_PENDING_MSG):
        await set_volume(hass, 0.3 if i % 2 else 0.4)
        received.append(await reader.event(sub))
        if hub.subscriber_count == 1:
            break
    assert hub.subscriber_count == 1  # the stalled one is gone, its subscription with it
    consecutive(received, start)  # the reader got every event, in order, meanwhile
    result = await reader.command("player/volume", volume=0.1)
    assert (await reader.event(sub))["seq"] == result["seq"]


# Diagnostics and life cycle -----------------------------------------------------------------


async def test_diagnostics(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Diagnostics show the hub's seq, buffer fill, subscribers and de-dup entries."""
    hub = hub_of(entry)
    figures = (await async_get_config_entry_diagnostics(hass, entry))["events"]
    assert figures == {
        "seq": hub.seq,
        "seq_reserved": hub.seq + SEQ_BLOCK,
        "buffer": 0,
        "buffer_size": REPLAY_BUFFER_SIZE,
        "subscribers": 0,
        "op_dedup": 0,
    }
    conn = await connect(hass_ws_client, entry)
    await conn.subscribe()
    await conn.command("player/volume", volume=0.2, client_op_id="op-1")
    await conn.command("player/volume", volume=0.2, client_op_id="op-1")  # a repeat
    await conn.command("player/volume", volume=0.3)
    figures = (await async_get_config_entry_diagnostics(hass, entry))["events"]
    assert figures["seq"] == hub.seq
    assert figures["buffer"] == 2
    assert figures["subscribers"] == 1
    assert figures["op_dedup"] == 1


async def test_unload_stops_the_stream(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """An unloaded box publishes nothing more, even to a subscriber still connected."""
    hub, live = hub_of(entry), live_of(entry)
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    await conn.command("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    assert [(await conn.event(sub))["type"] for _ in range(2)] == ["queue", "player"]
    assert live.positions.timer is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert live.positions.timer is None
    seq = hub.seq
    await asyncio.sleep(2 * POSITION_MIN_GAP)
    assert hub.seq == seq


async def test_catalog_changes(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    library: Path,
) -> None:
    """A vanished library folder: library (unavailable), index and player (unavailable) events."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    await hass.async_add_executor_job(library.rename, library.with_name("gone"))
    result = await conn.command("rescan")
    events = await conn.through(sub, result["seq"])
    assert [e["type"] for e in events] == ["library", "playlists", "player"]
    assert events[0]["data"]["available"] is False
    assert events[2]["data"]["available"] is False
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.state == "unavailable"

    # A change about a playlist that no longer exists when it is published is skipped.
    hub = hub_of(entry)
    seq = hub.seq
    live_of(entry)._on_catalog(CatalogChange(ChangeKind.PLAYLIST, ("ugone",)))
    assert hub.seq == seq


async def test_unload_closes_subscriptions(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Unloading the box ends its subscriptions with a `closed` event; the socket stays usable."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await conn.event(sub) == {"type": "closed"}
    reply = await conn.result(await conn.send("ping"))
    assert reply["type"] == "pong"
