"""Satellites of a sync room: silent members dropped, rejoining, leaving, unloading, removal.

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

from homeassistant.const import STATE_PLAYING
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    WebSocketGenerator,
)

from custom_components.open_music_box.sync.coordinator import READY_TIMEOUT_SECONDS
from custom_components.open_music_box.sync.local_member import LocalMember
from custom_components.open_music_box.sync.satellite_member import (
    REJOIN_SECONDS,
    SILENT_SECONDS,
)
from custom_components.open_music_box.sync.timeline import server_time
from omb_satellite import EXIT_OK, EXIT_ROOM

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
    room_entry,
    room_state,
    satellite_member,
    satellites,
    shown,
    start,
    sweep,
    tasks,
)

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
