"""Remote satellites of a sync room over Home Assistant's WebSocket API, with real parts only.

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
from typing import Any

from aiohttp import WSMsgType
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

from custom_components.open_music_box.api.websocket import RATE_LIMIT_PER_SECOND
from custom_components.open_music_box.const import DOMAIN, MAX_ROOM_MEMBERS
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.sync.coordinator import READY_TIMEOUT_SECONDS
from custom_components.open_music_box.sync.local_member import LocalMember
from custom_components.open_music_box.sync.satellite_member import (
    REJOIN_SECONDS,
    SILENT_SECONDS,
)
from custom_components.open_music_box.sync.timeline import TimelineState, server_time
from omb_satellite import EXIT_OK, EXIT_ROOM

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
    mpv_time_pos,
    raw,
    room_entry,
    room_state,
    satellite_member,
    shown,
    start,
    sweep,
    tasks,
)
from .helpers.ws import expect_error

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
    assert member.seeks == 0
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
    # Held where the local member is held. (While paused after a seek, mpv's null output
    # reports its position minus the dropped buffer, the same for both; where they resume
    # from is checked against the room's line below.)
    await until(lambda: satellite.player.loaded)
    held = await mpv_time_pos(satellite)
    local = room.coordinator.members[LOCAL_ID]
    assert isinstance(local, LocalMember)
    local_held = await hass.async_add_executor_job(getattr, local.mpv.mpv, "time_pos")
    assert held == pytest.approx(local_held, abs=0.005)
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


# Zombies and rejoining after a drop -----------------------------------------------------------


async def test_a_silent_member_is_dropped(
    hass: HomeAssistant, room_entry: MockConfigEntry, raw: Raw
) -> None:
    room = room_of(room_entry)
    sub, joined = await raw.join(name="zombie")
    assert (await raw.event(sub))["type"] == "state"
    member = room.satellite(joined["member_id"])
    # Silent, but not for long yet: the sweep keeps it.
    await sweep(hass)
    assert member.member_id in room.coordinator.members

    # A clock sample is a word: a satellite in a paused room sends nothing else.
    member.last_seen -= SILENT_SECONDS + 1
    await raw.ok("time")
    await sweep(hass)
    assert member.member_id in room.coordinator.members

    member.last_seen -= SILENT_SECONDS + 1  # a minute without a word
    await sweep(hass)
    assert await raw.event(sub, "closed") == {"type": "closed", "reason": "dropped"}
    assert member.member_id not in room.coordinator.members
    assert member.member_id not in shown(hass)
    # Its connection is still open; the dropped member is unknown now.
    await raw.works()
    await raw.error(
        "room/ready", "member_not_found", room_id=ROOM_ID, member_id=member.member_id, generation=0
    )
    # Coming back with its old id (a satellite keeps it across reboots) makes it that member
    # again: a new one, under the same id.
    _, rejoined = await raw.join(member_id=member.member_id)
    assert rejoined == {"member_id": member.member_id, "rejoined": False}
    assert room.satellite(member.member_id) is not member
    assert [m.member_id for m in room.satellites()] == [member.member_id]


async def test_a_satellite_joins_under_its_own_id_unless_taken(
    hass: HomeAssistant, room_entry: MockConfigEntry, raw: Raw
) -> None:
    room = room_of(room_entry)
    _, joined = await raw.join(member_id="kitchen-pi-0001", name="kitchen")
    assert joined == {"member_id": "kitchen-pi-0001", "rejoined": False}
    assert room.satellite("kitchen-pi-0001").name == "kitchen"
    # The id of a member that is not a satellite is not given away: a fresh id instead.
    _, other = await raw.join(member_id=LOCAL_ID, name="sneaky")
    assert other["rejoined"] is False
    assert other["member_id"] not in (LOCAL_ID, "kitchen-pi-0001")
    assert isinstance(room.coordinator.members[LOCAL_ID], LocalMember)


async def test_an_incompatible_satellite_is_refused_with_a_translated_error(
    hass: HomeAssistant, room_entry: MockConfigEntry, raw: Raw
) -> None:
    room = room_of(room_entry)
    error = await raw.error("room/join", "satellite_protocol", room_id=ROOM_ID, protocol=99)
    assert "protocol 99" in error["message"]
    assert error["translation_key"] == "satellite_protocol"
    assert error["translation_placeholders"] == {"protocol": "99", "supported": "1"}
    assert room.satellites() == []
    await raw.error("room/join", "invalid_format", room_id=ROOM_ID, protocol="one")
    # Version 1, or none at all (satellites from before the version), is served.
    _, joined = await raw.join(protocol=1)
    assert joined["rejoined"] is False
    await raw.works()


async def test_a_disconnected_member_is_kept_for_a_minute_then_dropped(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    raw: Raw,
    hass_ws_client: WebSocketGenerator,
) -> None:
    room = room_of(room_entry)
    away = Raw(await hass_ws_client(hass))
    _, joined = await away.join(name="away")
    member = room.satellite(joined["member_id"])
    await away.works()  # a word after joining: it joined properly (else it keeps no seat)
    await away.ws.close()
    await until(lambda: not member.available)
    assert shown(hass)[member.member_id]["available"] is False

    # Within the minute: kept; the room plays without waiting for it; a rejoin resumes it.
    await sweep(hass)
    assert member.member_id in room.coordinator.members
    asked = server_time()
    await play_long(hass, room_entry)
    assert room.coordinator.timeline.server_time - asked < READY_TIMEOUT_SECONDS
    back = Raw(await hass_ws_client(hass))
    sub, rejoined = await back.join(member_id=member.member_id, name="away")
    assert rejoined == {"member_id": member.member_id, "rejoined": True}
    state = await back.event(sub)
    assert state["type"] == "state"
    assert state["member_id"] == member.member_id
    assert state["timeline"]["state"] == "playing"  # to start itself from
    assert state["timeline"]["generation"] == room.coordinator.timeline.generation
    assert member.available
    assert shown(hass)[member.member_id]["available"] is True

    # Gone again, and for more than the minute: dropped.
    await back.ws.close()
    await until(lambda: not member.available)
    assert member.disconnected_at is not None
    member.disconnected_at -= REJOIN_SECONDS + 1
    await sweep(hass)
    assert member.member_id not in room.coordinator.members
    assert member.member_id not in shown(hass)
    _, late = await raw.join(member_id=member.member_id, name="away")
    assert late == {"member_id": member.member_id, "rejoined": False}  # a new member, same id
    assert room.satellite(member.member_id) is not member


# Limits --------------------------------------------------------------------------------------


async def test_the_room_is_full_at_twenty_members_and_plays_on(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    raw: Raw,
    hass_ws_client: WebSocketGenerator,
) -> None:
    room = room_of(room_entry)
    await play_long(hass, room_entry)
    others = Raw(await hass_ws_client(hass))
    joined = []
    for index in range(MAX_ROOM_MEMBERS - 1):  # the local member is the first
        client = raw if index % 2 else others
        joined.append((client, *(await client.join(name=f"sat {index}"))))
    assert len(room.coordinator.members) == MAX_ROOM_MEMBERS
    error = await raw.error("room/join", "room_full", room_id=ROOM_ID, name="one too many")
    assert error["message"].startswith("The room Living room is full: at most 20 members")
    # A rejoin of a member is not a new member: it is let in.
    client, sub, result = joined[0]
    _, again = await raw.join(member_id=result["member_id"], name="sat 0")
    assert again["rejoined"] is True
    assert await client.event(sub, "closed") == {"type": "closed", "reason": "replaced"}
    assert len(room.coordinator.members) == MAX_ROOM_MEMBERS
    # Room and connections carry on; a member leaving makes room for another.
    assert room_state(hass) == STATE_PLAYING
    await assert_in_step(room, LOCAL_ID)
    await raw.works()
    await others.works()
    _, _, leaving = joined[1]
    assert await raw.ok("room/leave", room_id=ROOM_ID, member_id=leaving["member_id"]) == {}
    await raw.join(name="next")
    assert len(room.coordinator.members) == MAX_ROOM_MEMBERS


async def test_rate_limit_refuses_the_excess_and_the_connection_goes_on(
    hass: HomeAssistant, room_entry: MockConfigEntry, raw: Raw
) -> None:
    room = room_of(room_entry)
    await play_long(hass, room_entry)
    sub, joined = await raw.join()
    member_id = joined["member_id"]
    await asyncio.sleep(1.05)  # an empty window: the burst below is all in one second
    burst = [await raw.send("time", paced=False) for _ in range(RATE_LIMIT_PER_SECOND - 1)]
    fields = {"room_id": ROOM_ID, "member_id": member_id, "generation": 0}
    burst.append(await raw.send("room/ready", paced=False, **fields))  # the 30th: let through
    excess = [
        await raw.send("room/ready", paced=False, **fields),
        await raw.send("time", paced=False),
    ]
    for msg_id in burst:
        assert (await raw.reply(msg_id))["success"]
    for msg_id in excess:
        error = expect_error(await raw.reply(msg_id), "rate_limited")
        assert str(RATE_LIMIT_PER_SECOND) in error["message"]
    # A second later the same connection is served again, and the member is still there.
    await asyncio.sleep(1.05)
    await raw.works()
    assert await raw.ok("room/ready", **fields) == {"stale": True}
    assert room.satellite(member_id).available
    assert room_state(hass) == STATE_PLAYING
    assert (await raw.event(sub))["type"] == "state"


async def test_another_users_member_is_not_found(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    raw: Raw,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """Anyone authenticated may join as a listener; each member answers only to its user."""
    room = room_of(room_entry)
    reader = Raw(await hass_ws_client(hass, hass_read_only_access_token))
    _, joined = await reader.join(name="reader's")
    member_id = joined["member_id"]
    member = room.satellite(member_id)
    reader_token = hass.auth.async_validate_access_token(hass_read_only_access_token)
    assert reader_token is not None
    assert member.user_id == reader_token.user.id
    report = report_fields(member_id, member.generation)
    ids = {"room_id": ROOM_ID, "member_id": member_id}
    await raw.error("room/ready", "member_not_found", **ids, generation=member.generation)
    await raw.error("room/report", "member_not_found", **report)
    await raw.error("room/leave", "member_not_found", **ids)
    # Nor may it take the member over: a join with that id is a new member of its own.
    _, own = await raw.join(member_id=member_id)
    assert own["rejoined"] is False
    assert own["member_id"] != member_id
    assert member.available
    assert member_id in room.coordinator.members
    # Its own user may.
    assert await reader.ok("room/report", **report) == {"stale": False}
    assert await reader.ok("room/leave", **ids) == {}
    assert member_id not in room.coordinator.members


def report_fields(member_id: str, generation: int, **changes: Any) -> dict[str, Any]:
    """A well-formed report of a member (with some fields changed)."""
    return {
        "room_id": ROOM_ID,
        "member_id": member_id,
        "generation": generation,
        "position": 1.0,
        "server_time": server_time(),
        "clock_offset": 0.0,
        "clock_rtt": 0.001,
        "speed": 1.0,
        **changes,
    }


# Malformed messages --------------------------------------------------------------------------

LONG = "x" * 65  # one more than the 64 characters allowed in any string


def malformed(member_id: str, generation: int) -> list[tuple[str, dict[str, Any], str]]:
    """(command, fields, error code) of messages that must be refused one by one."""
    ids = {"room_id": ROOM_ID, "member_id": member_id}
    ready = {**ids, "generation": generation}
    report = report_fields(member_id, generation)
    bad_reports = [
        ("position", -0.001),
        ("position", 86400.001),
        ("position", 1e300),
        ("position", -1e300),
        ("position", "1.0"),
        ("position", True),
        ("position", None),
        ("position", [1.0]),
        ("server_time", -1.0),
        ("server_time", 1e300),
        ("clock_offset", 1e300),
        ("clock_offset", "0"),
        ("clock_rtt", -0.001),
        ("clock_rtt", 61.0),
        ("speed", 0.0),
        ("speed", 2.5),
        ("speed", False),
        ("generation", True),
        ("generation", 1.5),
        ("generation", -1),
        ("generation", "1"),
        ("member_id", LONG),
        ("member_id", ""),
        ("member_id", 7),
        ("room_id", LONG),
    ]
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("time", {"t1": 1.0}, "invalid_format"),
        ("room/join", {}, "invalid_format"),
        ("room/join", {"room_id": LONG}, "invalid_format"),
        ("room/join", {"room_id": ""}, "invalid_format"),
        ("room/join", {"room_id": 42}, "invalid_format"),
        ("room/join", {"room_id": ROOM_ID, "name": LONG}, "invalid_format"),
        ("room/join", {"room_id": ROOM_ID, "name": ""}, "invalid_format"),
        ("room/join", {"room_id": ROOM_ID, "member_id": LONG}, "invalid_format"),
        ("room/join", {"room_id": ROOM_ID, "offset_ms": 1000.5}, "invalid_format"),
        ("room/join", {"room_id": ROOM_ID, "offset_ms": "5"}, "invalid_format"),
        ("room/join", {"room_id": ROOM_ID, "offset_ms": True}, "invalid_format"),
        ("room/join", {"room_id": ROOM_ID, "volume": 1.0}, "invalid_format"),
        ("room/join", {"room_id": "nowhere"}, "room_not_found"),
        ("room/ready", ids, "invalid_format"),
        ("room/ready", {**ready, "generation": -1}, "invalid_format"),
        ("room/ready", {**ready, "generation": 1.5}, "invalid_format"),
        ("room/ready", {**ready, "generation": True}, "invalid_format"),
        ("room/ready", {**ready, "position": 1.0}, "invalid_format"),
        ("room/ready", {**ready, "room_id": "nowhere"}, "room_not_found"),
        ("room/ready", {**ready, "member_id": "nobody"}, "member_not_found"),
        *(("room/report", {**report, key: value}, "invalid_format") for key, value in bad_reports),
        *(
            ("room/report", {k: v for k, v in report.items() if k != missing}, "invalid_format")
            for missing in report
        ),
        ("room/report", {**report, "extra": 1}, "invalid_format"),
        ("room/report", {**report, "room_id": "nowhere"}, "room_not_found"),
        ("room/report", {**report, "member_id": "nobody"}, "member_not_found"),
        ("room/leave", {"room_id": ROOM_ID}, "invalid_format"),
        ("room/leave", {**ids, "generation": generation}, "invalid_format"),
        ("room/leave", {**ids, "room_id": "nowhere"}, "room_not_found"),
        ("room/leave", {**ids, "member_id": LOCAL_ID}, "member_not_found"),  # not a satellite
        ("room/leave", {**ids, "member_id": "nobody"}, "member_not_found"),
    ]
    return cases


async def test_every_malformed_message_is_answered_and_the_room_plays_on(
    hass: HomeAssistant, room_entry: MockConfigEntry, raw: Raw
) -> None:
    room = room_of(room_entry)
    await play_long(hass, room_entry)
    sub, joined = await raw.join(name="careless")
    member_id = joined["member_id"]
    state = await raw.event(sub, "state")
    generation = state["timeline"]["generation"]
    assert state["timeline"]["state"] == "playing"

    cases = malformed(member_id, generation)
    for command, fields, code in cases:
        reply = await raw.call(command, **fields)
        assert not reply["success"], (command, fields, reply)
        assert reply["error"]["code"] == code, (command, fields, reply)
        message = reply["error"]["message"]
        if code == "invalid_format":
            assert message.startswith("The command is not valid: "), message
        else:
            assert message, reply

    # A stale generation is no error: the answer says so and the report is ignored.
    member = room.satellite(member_id)
    ids = {"room_id": ROOM_ID, "member_id": member_id}
    assert await raw.ok("room/ready", **ids, generation=generation + 5) == {"stale": True}
    assert await raw.ok("room/ready", **ids, generation=generation) == {"stale": True}  # unasked
    stale = report_fields(member_id, generation + 5)
    assert await raw.ok("room/report", **stale) == {"stale": True}
    assert member.report is None
    # Clock samples: the server's receipt, then its reply.
    for _ in range(3):
        sample = await raw.ok("time")
        assert set(sample) == {"t2", "t3"}
        assert sample["t2"] <= sample["t3"]

    # The same connection still works, the member is in, the room plays with both members.
    on_line = room.coordinator.timeline.position_at(server_time())
    good = report_fields(member_id, generation, position=on_line, server_time=server_time())
    assert await raw.ok("room/report", **good) == {"stale": False}
    assert member.report is not None
    assert member.available
    assert set(room.coordinator.members) == {LOCAL_ID, member_id}
    assert room_state(hass) == STATE_PLAYING
    assert room.coordinator.timeline.generation == generation
    await assert_in_step(room, LOCAL_ID)
    assert set(shown(hass)) == {LOCAL_ID, member_id}


async def test_a_frame_that_is_not_json_ends_only_its_connection(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    raw: Raw,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """JSON has no NaN: HA's own parser refuses such a frame and closes that connection (HA
    core's behaviour, before our commands see anything). The room and the others carry on."""
    room = room_of(room_entry)
    await play_long(hass, room_entry)
    _, joined = await raw.join()
    careless = Raw(await hass_ws_client(hass))
    _, other = await careless.join()
    await careless.ws.send_str(
        '{"id": 99, "type": "open_music_box/room/report", "room_id": "'
        + ROOM_ID
        + '", "member_id": "'
        + other["member_id"]
        + '", "generation": 0, "position": NaN, "server_time": 1, "clock_offset": 0,'
        ' "clock_rtt": 0, "speed": 1}'
    )
    async with asyncio.timeout(TIMEOUT):
        while (await careless.ws.receive()).type is WSMsgType.TEXT:
            pass  # the events sent before
    assert careless.ws.closed
    gone = room.satellite(other["member_id"])
    await until(lambda: not gone.available)  # kept for a minute, as any lost connection
    await raw.works()
    assert room.satellite(joined["member_id"]).available
    assert room_state(hass) == STATE_PLAYING
    await assert_in_step(room, LOCAL_ID)


# Leaving, unloading, removing the room ---------------------------------------------------------


async def test_leave_removes_the_member_at_once(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    start: SatelliteFactory,
    tasks: dict[RecordingSatellite, asyncio.Task[int]],
    raw: Raw,
) -> None:
    room = room_of(room_entry)
    await play_long(hass, room_entry)
    sub, joined = await raw.join()
    assert await raw.ok("room/leave", room_id=ROOM_ID, member_id=joined["member_id"]) == {}
    assert joined["member_id"] not in room.coordinator.members  # at once, not at a sweep
    assert joined["member_id"] not in shown(hass)
    assert await raw.event(sub, "closed") == {"type": "closed", "reason": "left"}
    await raw.error(
        "room/leave", "member_not_found", room_id=ROOM_ID, member_id=joined["member_id"]
    )

    # The reference satellite leaves when stopped, and exits with 0.
    satellite = await start()
    member_id = satellite.member_id
    assert member_id in room.coordinator.members
    await satellite.stop()
    assert await tasks[satellite] == EXIT_OK
    assert member_id not in room.coordinator.members
    assert set(room.coordinator.members) == {LOCAL_ID}
    assert room_state(hass) == STATE_PLAYING


async def test_unloading_the_box_closes_the_satellites(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    start: SatelliteFactory,
    tasks: dict[RecordingSatellite, asyncio.Task[int]],
    raw: Raw,
) -> None:
    """Satellites hear that the box went; the reference satellite keeps trying (a restart or a
    reload, not a removal) and is back in the room once the box is."""
    await play_long(hass, room_entry)
    satellite = await start()
    first_id = satellite.member_id
    sub, _ = await raw.join()
    assert await hass.config_entries.async_unload(room_entry.entry_id)
    await hass.async_block_till_done()
    assert await raw.event(sub, "closed") == {"type": "closed", "reason": "unloaded"}
    await raw.works()
    await raw.error("room/join", "room_not_found", room_id=ROOM_ID)
    await asyncio.sleep(1.5)  # at least one retry finds no room...
    assert not tasks[satellite].done()  # ...and the satellite does not give up
    assert satellite.received[-1] == {"type": "closed", "reason": "unloaded"}

    assert await hass.config_entries.async_setup(room_entry.entry_id)
    await hass.async_block_till_done()
    await until(lambda: len(satellite.join_results) == 2, timeout=TIMEOUT)
    room = room_of(room_entry)
    # The room is new, and so is the member, under the id the satellite had.
    assert satellite.join_results[1] == {"member_id": first_id, "rejoined": False}
    assert satellite.member_id == first_id
    assert satellite.member_id in room.coordinator.members
    assert not tasks[satellite].done()


async def test_removing_the_room_closes_its_satellites(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    start: SatelliteFactory,
    tasks: dict[RecordingSatellite, asyncio.Task[int]],
    raw: Raw,
) -> None:
    """The box reloads without the room: satellites hear it was removed; the reference
    satellite stops at once with exit code 2."""
    await play_long(hass, room_entry)
    satellite = await start()
    sub, _ = await raw.join()
    assert hass.config_entries.async_remove_subentry(room_entry, ROOM_ID)
    await hass.async_block_till_done()
    assert await raw.event(sub, "closed") == {"type": "closed", "reason": "room_removed"}
    async with asyncio.timeout(TIMEOUT):
        assert await tasks[satellite] == EXIT_ROOM
    assert satellite.received[-1] == {"type": "closed", "reason": "room_removed"}
    assert len(satellite.join_results) == 1
    assert room_entry.runtime_data.rooms == {}
    await raw.error("room/join", "room_not_found", room_id=ROOM_ID)


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
    start = await raw.event(sub, "start")
    assert start["generation"] == generation
    assert start["server_time"] < server_time()
    assert member.seeks == 1
    errors = [round(error * 1000) for _, error, _ in member.errors]
    assert errors[0] == 20
    assert errors[-1] == 500
    await assert_in_step(room, LOCAL_ID)  # the others are not disturbed
    assert room.coordinator.members[LOCAL_ID].seeks == 0
