"""The live-state hub's position stream: while playing, at play/pause/seek, only to subscribers.

Real Home Assistant core, real WebSocket clients (`hass_ws_client`) and a real libmpv box
(null audio output) on a generated library.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import itertools
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    WebSocketGenerator,
)

from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.events import (
    POSITION_MIN_GAP,
)

from .helpers.hub import (
    CLOCK_READ_SLACK,
    connect,
    consecutive,
    hub_of,
    live_of,
    positions,
    server_time,
)
from .helpers.player import playlist_id, wait_for

# Position stream -----------------------------------------------------------------


async def test_positions_while_playing(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """While playing, a subscriber gets a steady stream of growing positions, min gap apart."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)  # snapshot
    start = await conn.command("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    caused = await conn.through(sub, start["seq"])
    assert [e["type"] for e in caused] == ["queue", "player", "position"]  # one at play
    assert caused[-1]["data"]["playing"] is True

    stream = [await conn.event(sub) for _ in range(8)]  # about 1.5 s of playback
    assert {e["type"] for e in stream} == {"position"}
    consecutive(stream, start["seq"])
    track = caused[1]["data"]["track"]
    for event in stream:
        assert event["data"]["playing"] is True
        assert event["data"]["track_id"] == track["track_id"]
        assert event["data"]["duration_ms"] == track["duration_ms"] == 20000
    values = [e["data"]["position_ms"] for e in [caused[-1], *stream]]
    assert values == sorted(values)
    assert values[-1] > values[0]
    times = [server_time(e) for e in [caused[-1], *stream]]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= timedelta(seconds=POSITION_MIN_GAP) - CLOCK_READ_SLACK


async def test_positions_at_play_pause_seek(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Every play, pause and seek sends a position (at once, or after the 150 ms gap)."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)

    async def caused_by(command: str, /, **data: Any) -> dict[str, Any]:
        result = await conn.command(command, **data)
        events = await conn.through(sub, result["seq"])
        assert events[-1]["type"] in ("player", "position")
        if events[-1]["type"] == "player":  # its position waits for the 150 ms gap
            events.append(await conn.event(sub))
        assert events[-2]["type"] == "player"
        assert events[-1]["type"] == "position"
        return events[-1]["data"]

    playing = await caused_by("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    assert playing["playing"] is True
    paused = await caused_by("player/pause")
    assert paused["playing"] is False
    assert (
        live_of(entry).positions.timer is None
    )  # the stream really stopped (a cancelled timer never runs)
    seeked = await caused_by("player/seek", position_ms=7000)
    assert (seeked["position_ms"], seeked["playing"]) == (7000, False)

    await asyncio.sleep(4 * POSITION_MIN_GAP)  # ticks would have come by now
    marker = await conn.command("player/volume", volume=0.2)
    event = await conn.event(sub)  # nothing came between the seek and this
    assert (event["seq"], event["type"]) == (marker["seq"], "player")

    resumed = await caused_by("player/play")
    assert resumed["playing"] is True
    assert resumed["position_ms"] >= 7000
    # Seeks while playing: the tick that follows a seek's position keeps the min gap too.
    for target in (3000, 9000, 1000, 12000, 5000):
        result = await conn.command("player/seek", position_ms=target)
        events = await conn.through(sub, result["seq"])
        if events[-1]["type"] == "player":  # its position waits for the 150 ms gap
            events.append(await conn.event(sub))
        assert events[-1]["data"]["position_ms"] >= target
        tick = await conn.event(sub)
        assert tick["type"] == "position"
        assert tick["data"]["position_ms"] >= target
        assert server_time(tick) - server_time(events[-1]) >= (
            timedelta(seconds=POSITION_MIN_GAP) - CLOCK_READ_SLACK
        )
    stopped = await caused_by("player/stop")
    assert stopped == {"position_ms": 0, "duration_ms": None, "track_id": None, "playing": False}
    assert live_of(entry).positions.timer is None


async def test_no_position_stream_without_subscribers(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Positions only run for subscribers: unsubscribing or closing the socket stops them."""
    hub = hub_of(entry)
    control = await connect(hass_ws_client, entry)
    await control.command("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    await asyncio.sleep(2 * POSITION_MIN_GAP)
    assert hub.subscriber_count == 0
    assert live_of(entry).positions.timer is None
    assert positions(list(hub.buffer)) == []  # nobody listening: no position event at all

    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    assert (await conn.event(sub))["type"] == "snapshot"
    assert live_of(entry).positions.timer is not None
    assert (await conn.event(sub))["type"] == "position"

    # unsubscribe_events: the stream stops, the connection stays usable.
    reply = await conn.result(await conn.send("unsubscribe_events", subscription=sub))
    assert reply["success"]
    assert hub.subscriber_count == 0
    assert live_of(entry).positions.timer is None
    seq = hub.seq
    await asyncio.sleep(2 * POSITION_MIN_GAP)
    assert hub.seq == seq
    marker = await conn.command("player/volume", volume=0.2)
    assert marker["seq"] == seq + 1  # a player event, no position in between

    # Closing the socket ends its subscriptions.
    again = await conn.subscribe()
    second = await connect(hass_ws_client, entry)
    second_sub = await second.subscribe()
    assert hub.subscriber_count == 2
    assert again != second_sub
    await conn.ws.close()
    await second.ws.close()
    await wait_for(lambda: hub.subscriber_count == 0)
    assert live_of(entry).positions.timer is None
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["events"]["subscribers"] == 0


async def test_command_positions_keep_the_gap(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Quick seeks: their positions merge so no two are closer than 150 ms; the last wins."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    await conn.command("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    await conn.command("player/pause")
    await conn.command("player/seek", position_ms=3000)
    last = await conn.command("player/seek", position_ms=9000)
    events = await conn.through(sub, last["seq"])
    events += await conn.until(
        sub, lambda e: e["type"] == "position" and e["data"]["position_ms"] == 9000
    )
    positions = [e for e in events if e["type"] == "position"]
    for before, after in itertools.pairwise(positions):
        gap = server_time(after) - server_time(before)
        assert gap >= timedelta(seconds=POSITION_MIN_GAP) - CLOCK_READ_SLACK
    assert positions[-1]["data"]["playing"] is False
