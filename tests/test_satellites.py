"""Satellites of a sync room: in step, seek, pause, late join, a tag, the room's protocol side.

Real HA core and HTTP server on a loopback socket, the room's local member a real libmpv (null
audio output), and the real reference satellite (the `omb_satellite` package in `satellite/`)
running in the test's event loop with its own libmpv and aiohttp session. Protocol edge cases
(zombies, limits, malformed messages) use raw WebSocket clients that speak the protocol by hand.

A satellite's measurement is its last report (up to 0.5 s old), so its error is taken against
the room's line at the report's own server time, never at "now".
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from homeassistant.components import tag
from homeassistant.const import STATE_IDLE, STATE_PAUSED, STATE_PLAYING
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    WebSocketGenerator,
)

from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.sync.coordinator import READY_TIMEOUT_SECONDS
from custom_components.open_music_box.sync.local_member import LocalMember
from custom_components.open_music_box.sync.timeline import TimelineState, server_time

from .conftest import ENTITY_ID
from .helpers.player import playlist_id
from .helpers.rooms import ROOM_ID, call, play_long, room_of, until
from .helpers.satellites import (  # noqa: F401 (fixtures)
    CONVERGE_SECONDS,
    LOCAL_ID,
    NAME,
    TIMEOUT,
    Raw,
    RecordingSatellite,
    SatelliteFactory,
    assert_in_step,
    base_url,
    mpv_time_pos,
    raw,
    report_fields,
    room_entry,
    room_state,
    satellite_member,
    satellites,
    shown,
    start,
    sweep,
    tasks,
)

NULL_BUFFER_SECONDS = 0.25  # mpv's null output buffers 0.2 s; what it drops shows while paused

# Playing with the room -------------------------------------------------------------------------


async def test_satellite_plays_in_step_with_the_room(
    hass: HomeAssistant, room_entry: MockConfigEntry, start: SatelliteFactory, raw: Raw
) -> None:
    room = room_of(room_entry)
    satellite = await start()
    assert satellite.join_results == [{"member_id": satellite.member_id, "rejoined": False}]
    member = satellite_member(room, satellite)
    assert member.name == NAME
    assert member.available
    # The idle room's state came first; nothing to play yet.
    assert satellite.received[0]["type"] == "state"
    assert satellite.received[0]["timeline"]["state"] == "idle"
    # Shown on the room entity and in the box's live state.
    assert shown(hass)[member.member_id] == {
        "member_id": member.member_id,
        "kind": "satellite",
        "name": NAME,
        "available": True,
    }
    feed = await raw.send("subscribe", entry_id=room_entry.entry_id)
    assert (await raw.reply(feed))["success"]
    snapshot = await raw.event(feed)
    assert snapshot["type"] == "snapshot"
    (summary,) = snapshot["data"]["rooms"]
    assert summary["room_id"] == ROOM_ID
    assert {m["member_id"]: m["kind"] for m in summary["members"]} == {
        LOCAL_ID: "local",
        member.member_id: "satellite",
    }

    await play_long(hass, room_entry)
    assert room_state(hass) == STATE_PLAYING
    timeline = room.coordinator.timeline
    assert timeline.state is TimelineState.PLAYING
    # The box's subscribers follow the room: its player state and its timeline.
    while (event := await raw.event(feed, "room"))["data"]["player"]["state"] != "playing":
        pass
    assert event["data"]["player"]["track"]["title"] == "Tone"
    assert event["data"]["timeline"]["generation"] == timeline.generation
    prepare = next(e for e in satellite.received if e["type"] == "prepare")
    assert prepare["generation"] == timeline.generation
    assert prepare["position"] == 0.0
    assert prepare["url"].startswith("/api/open_music_box/media/")
    assert "authSig=" in prepare["url"]  # signed: mpv needs no token
    await until(lambda: "start" in satellite.kinds())
    started = next(e for e in satellite.received if e["type"] == "start")
    assert started["generation"] == timeline.generation
    assert started["server_time"] == timeline.server_time
    # The satellite reports, and its audio is on the room's line, like the local member.
    await assert_in_step(room, member.member_id, LOCAL_ID)
    assert member.reports > 0
    assert member.clock_rtt is not None
    # A barrier start, not catch-ups (a loaded machine may start it late: one realign then).
    assert member.seeks <= 1
    assert satellite.player.playing
    assert satellite.generation == timeline.generation
    # Diagnostics show the room (with the id a satellite needs) and the satellite's clock.
    diagnostics = await async_get_config_entry_diagnostics(hass, room_entry)
    (shown_room,) = diagnostics["rooms"]
    assert shown_room["room_id"] == ROOM_ID
    shown_member = next(
        m for m in shown_room["output"]["members"] if m["member_id"] == member.member_id
    )
    assert shown_member["kind"] == "satellite"
    assert shown_member["connected"] is True
    assert shown_member["reports"] > 0
    assert abs(shown_member["clock_offset_ms"]) < 1.0
    assert shown_member["clock_rtt_ms"] > 0.0


async def test_clock_estimate_on_loopback(
    hass: HomeAssistant, room_entry: MockConfigEntry, start: SatelliteFactory
) -> None:
    """In the same process both clocks are time.monotonic(): the estimate must find 0."""
    satellite = await start()
    await until(lambda: satellite.clock.samples >= 3)
    assert abs(satellite.clock.offset) < 0.001
    assert satellite.clock.rtt > 0.0


async def standing_still(read: Callable[[], Awaitable[float]]) -> float:
    """Return a position once two reads 0.1 s apart agree (fail after 10 s)."""
    last = await read()
    for _ in range(100):
        await asyncio.sleep(0.1)
        now = await read()
        if now == last:
            return now
        last = now
    raise AssertionError(f"still moving at {last}")


async def test_satellite_follows_seek_pause_and_resume(
    hass: HomeAssistant, room_entry: MockConfigEntry, start: SatelliteFactory
) -> None:
    room = room_of(room_entry)
    satellite = await start()
    member = satellite_member(room, satellite)
    await play_long(hass, room_entry)
    await assert_in_step(room, member.member_id)

    before = room.coordinator.timeline.generation
    await call(hass, "media_seek", {"seek_position": 15.0})
    timeline = room.coordinator.timeline
    assert timeline.generation > before
    assert timeline.position == 15.0
    assert any(
        e["type"] == "prepare" and e["generation"] == timeline.generation and e["position"] == 15.0
        for e in satellite.received
    )
    await assert_in_step(room, member.member_id, LOCAL_ID)
    measured = member.measure(server_time())
    assert measured is not None
    assert 15.0 < measured[1] < 15.0 + CONVERGE_SECONDS + 1  # on the new line, not the old one

    await call(hass, "media_pause")
    assert room_state(hass) == STATE_PAUSED
    paused = room.coordinator.timeline
    assert paused.state is TimelineState.PAUSED
    await until(lambda: satellite.generation == paused.generation and not satellite.player.playing)
    pause = satellite.received[-1]
    assert pause == {"type": "pause", "generation": paused.generation, "position": paused.position}
    # Each member holds at the room's position once its own pause and exact seek are done
    # (each in its own thread). While paused after a seek, mpv's null output reports the
    # position minus what it dropped from its buffer (up to its 0.2 s buffer, not the same
    # for both on a loaded machine); where they resume from is checked against the line below.
    await until(lambda: satellite.player.loaded)
    local = room.coordinator.members[LOCAL_ID]
    assert isinstance(local, LocalMember)

    async def local_time_pos() -> float:
        return float(await hass.async_add_executor_job(getattr, local.mpv.mpv, "time_pos"))

    held = await standing_still(lambda: mpv_time_pos(satellite))
    local_held = await standing_still(local_time_pos)
    assert held == pytest.approx(paused.position, abs=NULL_BUFFER_SECONDS)
    assert local_held == pytest.approx(paused.position, abs=NULL_BUFFER_SECONDS)
    await asyncio.sleep(0.3)
    assert await mpv_time_pos(satellite) == held  # standing still
    assert member.measure(server_time()) is None  # no reports while paused

    await call(hass, "media_play")
    assert room_state(hass) == STATE_PLAYING
    resumed = room.coordinator.timeline
    assert resumed.position == paused.position
    await assert_in_step(room, member.member_id, LOCAL_ID)
    measured = member.measure(server_time())
    assert measured is not None
    assert paused.position < measured[1] < paused.position + CONVERGE_SECONDS + 1


async def test_late_join_catches_up_by_itself(
    hass: HomeAssistant, room_entry: MockConfigEntry, start: SatelliteFactory
) -> None:
    """A satellite joining a playing room starts itself from the state: no barrier for the
    others, no prepare for it."""
    room = room_of(room_entry)
    await play_long(hass, room_entry)
    await assert_in_step(room, LOCAL_ID)
    generation = room.coordinator.timeline.generation
    local = room.coordinator.members[LOCAL_ID]

    satellite = await start()
    member = satellite_member(room, satellite)
    state = satellite.received[0]
    assert state["type"] == "state"
    assert state["member_id"] == member.member_id
    assert state["timeline"]["state"] == "playing"
    assert state["timeline"]["generation"] == generation
    assert state["timeline"]["url"].startswith("/api/open_music_box/media/")
    await assert_in_step(room, member.member_id, LOCAL_ID)
    assert room.coordinator.timeline.generation == generation  # nobody else was disturbed
    assert local.seeks == 0
    assert "prepare" not in satellite.kinds()
    assert "start" not in satellite.kinds()


async def test_reconnect_rejoins_as_the_same_member(
    hass: HomeAssistant, room_entry: MockConfigEntry, start: SatelliteFactory
) -> None:
    room = room_of(room_entry)
    satellite = await start()
    member = satellite_member(room, satellite)
    await play_long(hass, room_entry)
    await assert_in_step(room, member.member_id)
    member_id = member.member_id

    ws = satellite._ws  # the network goes away: close its connection
    assert ws is not None
    await ws.close()
    await until(lambda: not member.available)
    # Kept while it is away, shown as unavailable.
    assert room.coordinator.members[member_id] is member
    assert shown(hass)[member_id]["available"] is False
    assert member.disconnected_at is not None
    assert room_state(hass) == STATE_PLAYING

    # Back by itself (after its backoff), as the same member, and in step again.
    await until(lambda: len(satellite.join_results) == 2 and member.available, TIMEOUT)
    assert satellite.join_results[1] == {"member_id": member_id, "rejoined": True}
    assert satellite.member_id == member_id
    assert room.coordinator.members[member_id] is member
    assert member.disconnected_at is None
    assert shown(hass)[member_id]["available"] is True
    assert [m.member_id for m in room.satellites()] == [member_id]
    await assert_in_step(room, member_id, LOCAL_ID)


async def test_a_second_connection_takes_the_member_over(
    hass: HomeAssistant, room_entry: MockConfigEntry, raw: Raw, hass_ws_client: WebSocketGenerator
) -> None:
    room = room_of(room_entry)
    first, joined = await raw.join(name="old")
    other = Raw(await hass_ws_client(hass))
    second, again = await other.join(member_id=joined["member_id"], name="new")
    assert again == {"member_id": joined["member_id"], "rejoined": True}
    assert await raw.event(first, "closed") == {"type": "closed", "reason": "replaced"}
    member = room.satellite(joined["member_id"])
    assert member.name == "new"
    assert (await other.event(second))["type"] == "state"
    await raw.ws.close()  # the replaced connection closing does not disconnect the member
    await other.works()
    assert member.available
    assert len(room.satellites()) == 1


# A tag plays in the room -------------------------------------------------------------------------

TAG = "04-1A-3B-1C-5D-80-00"


async def test_a_tag_linked_to_the_room_plays_there_with_its_satellites(
    hass: HomeAssistant, room_entry: MockConfigEntry, raw: Raw
) -> None:
    assert await async_setup_component(hass, "tag", {})
    room = room_of(room_entry)
    long_id = playlist_id(room_entry, "Long")
    link = await hass.services.async_call(
        DOMAIN,
        "link_tag",
        {
            "config_entry_id": room_entry.entry_id,
            "tag_id": TAG,
            "playlist_id": long_id,
            "room_id": ROOM_ID,
        },
        blocking=True,
        return_response=True,
    )
    assert link is not None
    assert link["target"] == ROOM_ID
    sub, joined = await raw.join(name="by hand")
    await raw.event(sub, "state")

    await tag.async_scan_tag(hass, TAG, None)
    # The room's barrier asks the satellite to prepare the playlist's first track.
    prepare = await raw.event(sub, "prepare")
    assert prepare["position"] == 0.0
    assert prepare["track_id"] == room_entry.runtime_data.catalog.playlist(long_id).track_ids[0]
    ids = {"room_id": ROOM_ID, "member_id": joined["member_id"]}
    assert await raw.ok("room/ready", **ids, generation=prepare["generation"]) == {"stale": False}
    start = await raw.event(sub, "start")
    assert start["generation"] == prepare["generation"]
    await until(lambda: room_state(hass) == STATE_PLAYING)
    assert room.player.playlist_id == long_id
    assert room.coordinator.timeline.generation == prepare["generation"]
    box_state = hass.states.get(ENTITY_ID)
    assert box_state is not None
    assert box_state.state == STATE_IDLE  # the room plays it, not the box
    assert room_entry.runtime_data.player.queue == []
    await assert_in_step(room, LOCAL_ID)

    with pytest.raises(ServiceValidationError) as refused:
        room_entry.runtime_data.tags.link(TAG, long_id, room_id="nowhere")
    assert refused.value.translation_key == "room_not_found"
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN,
            "link_tag",
            {
                "config_entry_id": room_entry.entry_id,
                "tag_id": TAG,
                "playlist_id": long_id,
                "room_id": "nowhere",
            },
            blocking=True,
            return_response=True,
        )
    assert refused.value.translation_key == "room_not_found"


# The room's side of the protocol: barrier, late start, corrections --------------------------------


async def test_a_satellite_not_ready_in_time_is_started_late(
    hass: HomeAssistant, room_entry: MockConfigEntry, raw: Raw
) -> None:
    """The barrier never waits for a satellite longer than READY_TIMEOUT_SECONDS; its late
    ready gets a start whose instant has passed (it seeks ahead by itself)."""
    room = room_of(room_entry)
    sub, joined = await raw.join(name="slow")
    member = room.satellite(joined["member_id"])
    await play_long(hass, room_entry)  # returns once the room has started without it
    timeline = room.coordinator.timeline
    assert timeline.state is TimelineState.PLAYING
    prepare = await raw.event(sub, "prepare")
    assert prepare["generation"] == timeline.generation
    assert "start" not in [e["type"] for e in raw.events[sub]]
    ids = {"room_id": ROOM_ID, "member_id": member.member_id}
    assert await raw.ok("room/ready", **ids, generation=prepare["generation"]) == {"stale": False}
    start = await raw.event(sub, "start")
    assert start["generation"] == timeline.generation
    assert start["server_time"] < server_time()  # already past: a late start
    assert member.seeks == 1
    await assert_in_step(room, LOCAL_ID)


async def test_a_satellite_lost_during_the_barrier_does_not_hold_the_room(
    hass: HomeAssistant, room_entry: MockConfigEntry, raw: Raw
) -> None:
    room = room_of(room_entry)
    sub, _ = await raw.join(name="lost")
    asked = server_time()
    playing = hass.async_create_task(play_long(hass, room_entry))
    await raw.event(sub, "prepare")
    await raw.ws.close()
    await playing
    assert room.coordinator.timeline.state is TimelineState.PLAYING
    assert room.coordinator.timeline.server_time - asked < READY_TIMEOUT_SECONDS
    await assert_in_step(room, LOCAL_ID)


async def test_reports_off_the_line_get_a_speed_trim_then_a_realignment(
    hass: HomeAssistant, room_entry: MockConfigEntry, raw: Raw
) -> None:
    room = room_of(room_entry)
    await play_long(hass, room_entry)
    sub, joined = await raw.join(name="by hand")
    generation = (await raw.event(sub, "state"))["timeline"]["generation"]
    member = room.satellite(joined["member_id"])

    async def report(ahead: float) -> None:
        now = server_time()
        position = room.coordinator.timeline.position_at(now) + ahead
        fields = report_fields(member.member_id, generation, position=position, server_time=now)
        assert await raw.ok("room/report", **fields) == {"stale": False}

    await report(0.020)  # 20 ms ahead: slowed down, within half a percent
    speed = await raw.event(sub, "speed")
    assert 0.995 <= speed["speed"] < 1.0
    await report(0.5)  # far off: told to start again on the room's line
    before_start = []
    while (start := await raw.event(sub))["type"] != "start":
        before_start.append(start)
    # Whatever its trim, it starts again at its rate (1.0: errors that large teach no rate).
    assert [event["speed"] for event in before_start if event["type"] == "speed"][-1] == 1.0
    assert start["generation"] == generation
    assert start["server_time"] < server_time()
    assert member.seeks == 1
    errors = [round(error * 1000) for _, error, _ in member.errors]
    assert errors[0] == 20
    assert errors[-1] == 500
    await assert_in_step(room, LOCAL_ID)  # the others are not disturbed
    assert room.coordinator.members[LOCAL_ID].seeks == 0
