"""Satellites of a sync room: twenty members, rate limit, others' members, malformed messages.

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
from homeassistant.const import STATE_PLAYING
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    WebSocketGenerator,
)

from custom_components.open_music_box.api.websocket import RATE_LIMIT_PER_SECOND
from custom_components.open_music_box.const import MAX_ROOM_MEMBERS
from custom_components.open_music_box.sync.timeline import server_time

from .helpers.rooms import ROOM_ID, play_long, room_of, until
from .helpers.satellites import (  # noqa: F401 (fixtures)  # noqa: F401 (fixtures)
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
from .helpers.ws import expect_error

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
