"""Nobody holds a sync room hostage: not a satellite lying about its round trip, not a member
that never says ready, not a user filling the room with satellites.

Real HA core on a loopback socket, the room's local member a real libmpv (null output), the
reference satellite and raw WebSocket clients as in tests/test_satellites.py (whose fixtures
and helpers this file reuses). Delays are asserted from the room's barrier record and timeline,
never from wall-clock timings.
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path

from homeassistant.const import STATE_PLAYING
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import CLIENT_ID, MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.const import (
    CONF_MEMBERS_PER_USER,
    MAX_MEMBERS_PER_USER,
    MAX_ROOM_MEMBERS,
    ROOM_CONTROL_USERS,
)
from custom_components.open_music_box.sync.coordinator import (
    MAX_START_DELAY_SECONDS,
    Barrier,
)
from custom_components.open_music_box.sync.room import Room
from custom_components.open_music_box.sync.satellite_member import MAX_RTT_SECONDS
from custom_components.open_music_box.sync.timeline import Timeline, TimelineState, server_time
from omb_satellite import EXIT_OK
from omb_satellite.shared.clockfilter import ClockFilter

from .helpers.rooms import (
    ROOM_ID,
    call,
    play_long,
    regular_user,
    room_of,
    room_subentry,
    setup_room_entry,
    sync_library,
    until,
)
from .helpers.satellites import (  # noqa: F401 (fixtures)
    LOCAL_ID,
    TIMEOUT,
    Raw,
    RecordingSatellite,
    assert_in_step,
    base_url,
    raw,
    room_entry,
    room_state,
    satellite_member,
    satellites,
    start,
    sweep,
    tasks,
)

LIE_SECONDS = 20.0  # the report: one such report silenced the room for 40 s


class LyingClock(ClockFilter):
    """The reference satellite's clock, but the round trip it reports is made up."""

    def __init__(self) -> None:
        super().__init__()
        self.lie = LIE_SECONDS

    @property
    def rtt(self) -> float:
        return self.lie


def barrier_of(room: Room) -> Barrier:
    barrier = room.coordinator.barrier
    assert barrier is not None
    return barrier


async def started(room: Room, after: int) -> Timeline:
    """Wait until the room plays a timeline newer than generation `after`; return it at once."""
    await until(
        lambda: (
            room.coordinator.timeline.generation > after
            and room.coordinator.timeline.state is TimelineState.PLAYING
        ),
        TIMEOUT,
    )
    return room.coordinator.timeline


# A round trip the satellite reports ------------------------------------------------------------


async def test_a_lying_round_trip_cannot_delay_a_seek(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    base_url: str,
    hass_access_token: str,
    tasks: dict[RecordingSatellite, asyncio.Task[int]],
) -> None:
    room = room_of(room_entry)
    liar = RecordingSatellite(base_url, hass_access_token, ROOM_ID, name="liar", ao="null")
    clock = liar.clock = LyingClock()
    task = tasks[liar] = asyncio.create_task(liar.run())
    await until(lambda: liar.joined.is_set() or task.done(), TIMEOUT)
    member = satellite_member(room, liar)
    await play_long(hass, room_entry)
    await until(lambda: member.clock_rtt == LIE_SECONDS, TIMEOUT)  # its reports carry the lie
    assert member.implausible_rtts > 0
    assert member.rtt == 0.0  # ignored, not clamped into the room's delay

    generation = room.coordinator.timeline.generation
    seeking = hass.async_create_task(call(hass, "media_seek", {"seek_position": 10.0}))
    timeline = await started(room, generation)
    # T0 is chosen once the members are ready: seen at once, it is at most the bound ahead.
    assert timeline.server_time - server_time() <= MAX_START_DELAY_SECONDS
    barrier = barrier_of(room)
    assert barrier.generation == timeline.generation
    assert member.member_id in barrier.ready  # the liar was counted, its lie was not
    assert barrier.rtts[member.member_id] == 0.0
    assert barrier.delay is not None
    assert barrier.delay <= MAX_START_DELAY_SECONDS
    await seeking
    await assert_in_step(room, LOCAL_ID, member.member_id)

    # A plausible lie just under the bound still cannot push T0 past it.
    clock.lie = MAX_RTT_SECONDS
    reports = member.reports
    await until(lambda: member.reports > reports + 1, TIMEOUT)
    assert member.rtt == MAX_RTT_SECONDS
    generation = room.coordinator.timeline.generation
    seeking = hass.async_create_task(call(hass, "media_seek", {"seek_position": 5.0}))
    timeline = await started(room, generation)
    assert timeline.server_time - server_time() <= MAX_START_DELAY_SECONDS
    barrier = barrier_of(room)
    assert barrier.rtts[member.member_id] == MAX_RTT_SECONDS
    assert barrier.delay is not None
    assert barrier.delay <= MAX_START_DELAY_SECONDS
    await seeking
    assert room_state(hass) == STATE_PLAYING


# A member that never says ready ----------------------------------------------------------------


async def test_a_silent_member_does_not_hold_the_next_barriers(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    raw: Raw,
) -> None:
    room = room_of(room_entry)
    sub, joined = await raw.join(name="mute")
    member_id = joined["member_id"]
    ids = {"room_id": ROOM_ID, "member_id": member_id}

    # The first barrier waits for it (up to READY_TIMEOUT_SECONDS), in vain.
    await play_long(hass, room_entry)
    first = barrier_of(room)
    assert first.waited == {LOCAL_ID, member_id}
    assert first.late == {member_id}
    assert first.ready == {LOCAL_ID}
    assert (await raw.event(sub, "prepare"))["generation"] == first.generation

    # The next one does not wait for it, though it is asked to prepare too.
    await call(hass, "media_seek", {"seek_position": 8.0})
    second = barrier_of(room)
    assert second.generation > first.generation
    assert second.waited == {LOCAL_ID}
    assert second.skipped == {member_id}
    assert second.late == frozenset()
    assert second.ready == {LOCAL_ID}
    prepare = await raw.event(sub, "prepare")
    assert prepare["generation"] == second.generation
    await assert_in_step(room, LOCAL_ID)

    # Ready again (late): it starts late by itself, and the barriers wait for it again.
    assert await raw.ok("room/ready", **ids, generation=prepare["generation"]) == {"stale": False}
    start_event = await raw.event(sub, "start")
    assert start_event["generation"] == second.generation
    seeking = hass.async_create_task(call(hass, "media_seek", {"seek_position": 4.0}))
    prepare = await raw.event(sub, "prepare")
    assert await raw.ok("room/ready", **ids, generation=prepare["generation"]) == {"stale": False}
    await seeking
    third = barrier_of(room)
    assert third.generation == prepare["generation"]
    assert third.waited == {LOCAL_ID, member_id}
    assert third.skipped == frozenset()
    assert third.ready == {LOCAL_ID, member_id}
    assert (await raw.event(sub, "start"))["generation"] == third.generation
    assert room.coordinator.diagnostics()["barrier"]["ready"] == sorted([LOCAL_ID, member_id])


async def test_a_straggler_ready_in_time_starts_with_the_others(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    raw: Raw,
) -> None:
    """Not waited for is not left out: a skipped member ready before T0 starts on time."""
    room = room_of(room_entry)
    sub, joined = await raw.join(name="slow once")
    ids = {"room_id": ROOM_ID, "member_id": joined["member_id"]}
    await play_long(hass, room_entry)
    assert barrier_of(room).late == {joined["member_id"]}
    await raw.event(sub, "prepare")
    # It answers this barrier's prepare before the local member is ready: it starts at T0.
    seeking = hass.async_create_task(call(hass, "media_seek", {"seek_position": 6.0}))
    prepare = await raw.event(sub, "prepare")
    await raw.ok("room/ready", **ids, generation=prepare["generation"])
    await seeking
    barrier = barrier_of(room)
    assert barrier.skipped == {joined["member_id"]}
    if joined["member_id"] in barrier.ready:  # it was quicker than the local libmpv
        start_event = await raw.event(sub, "start")
        assert start_event["server_time"] == barrier.start
    else:  # a busy machine: it starts late, by itself
        assert (await raw.event(sub, "start"))["generation"] == barrier.generation


# Seats ----------------------------------------------------------------------------------------


def user_of(hass: HomeAssistant, token: str) -> str:
    refresh = hass.auth.async_validate_access_token(token)
    assert refresh is not None
    return refresh.user.id


async def test_a_non_admin_cannot_fill_the_room(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    raw: Raw,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    room = room_of(room_entry)
    await play_long(hass, room_entry)
    guest = Raw(await hass_ws_client(hass, hass_read_only_access_token))
    other = Raw(await hass_ws_client(hass, hass_read_only_access_token))
    own = [(await guest.join(name=f"guest {index}"))[1] for index in range(MAX_MEMBERS_PER_USER)]
    await guest.works()  # a word after joining: they joined properly
    for client in (guest, other):  # a limit per user, not per connection
        error = await client.error("room/join", "room_user_full", room_id=ROOM_ID, name="more")
        assert error["message"].startswith(
            f"You already have {MAX_MEMBERS_PER_USER} members in the room Living room"
        )
    assert len(room.satellites()) == MAX_MEMBERS_PER_USER
    # An admin is not limited by it; the room plays on and the connections carry on.
    for index in range(MAX_MEMBERS_PER_USER + 1):
        await raw.join(name=f"admin {index}")
    assert room_state(hass) == STATE_PLAYING
    await guest.works()
    # One of the guest's satellites loses its connection: a new one of the guest takes its seat.
    lost = Raw(await hass_ws_client(hass, hass_read_only_access_token))
    await guest.ok("room/leave", room_id=ROOM_ID, member_id=own[0]["member_id"])
    _, dropping = await lost.join(name="flaky")
    await lost.works()
    await lost.ws.close()
    gone = room.satellite(dropping["member_id"])
    await until(lambda: not gone.available)
    _, newcomer = await other.join(name="new")
    assert dropping["member_id"] not in room.coordinator.members
    guest_id = user_of(hass, hass_read_only_access_token)
    mine = [m.member_id for m in room.satellites() if m.user_id == guest_id]
    assert len(mine) == MAX_MEMBERS_PER_USER
    assert newcomer["member_id"] in mine
    await other.error("room/join", "room_user_full", room_id=ROOM_ID, name="more")


async def test_members_per_user_is_an_option(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """The box's options set the seats of a non-admin user (default 4), at once, no reload."""
    room = room_of(room_entry)
    volumes = {"max_volume": 80, "default_volume": 40, "previous_restart_seconds": 3}
    flow = await hass.config_entries.options.async_init(room_entry.entry_id)
    field = next(k for k in flow["data_schema"].schema if k == CONF_MEMBERS_PER_USER)
    assert field.description == {"suggested_value": MAX_MEMBERS_PER_USER}
    await hass.config_entries.options.async_configure(
        flow["flow_id"], {**volumes, CONF_MEMBERS_PER_USER: 2.0}
    )
    await hass.async_block_till_done()
    assert room_entry.options[CONF_MEMBERS_PER_USER] == 2
    assert room_of(room_entry) is room  # applied to the running room
    guest = Raw(await hass_ws_client(hass, hass_read_only_access_token))
    for index in range(2):
        await guest.join(name=f"guest {index}")
    error = await guest.error("room/join", "room_user_full", room_id=ROOM_ID, name="third")
    assert error["message"].startswith("You already have 2 members in the room Living room")
    flow = await hass.config_entries.options.async_init(room_entry.entry_id)
    await hass.config_entries.options.async_configure(
        flow["flow_id"], {**volumes, CONF_MEMBERS_PER_USER: 3}
    )
    await hass.async_block_till_done()
    await guest.join(name="third")
    await guest.error("room/join", "room_user_full", room_id=ROOM_ID, name="fourth")


async def fill(client: Raw, room: Room) -> list[str]:
    """Join satellites until the room is full; return their member ids."""
    ids = []
    while len(room.coordinator.members) < MAX_ROOM_MEMBERS:
        ids.append((await client.join(name=f"sat {len(ids)}"))[1]["member_id"])
    await client.works()
    return ids


async def test_a_full_room_gives_a_gone_members_seat_to_a_newcomer(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    raw: Raw,
    hass_ws_client: WebSocketGenerator,
) -> None:
    room = room_of(room_entry)
    flaky = Raw(await hass_ws_client(hass))
    _, first = await flaky.join(name="flaky")
    await flaky.works()
    await fill(raw, room)
    await raw.error("room/join", "room_full", room_id=ROOM_ID, name="one too many")
    await flaky.ws.close()
    member = room.satellite(first["member_id"])
    await until(lambda: not member.available)
    # Without waiting the minute a disconnected member may take to come back.
    _, newcomer = await raw.join(name="newcomer")
    assert first["member_id"] not in room.coordinator.members
    assert newcomer["member_id"] in room.coordinator.members
    assert len(room.coordinator.members) == MAX_ROOM_MEMBERS
    await raw.error("room/join", "room_full", room_id=ROOM_ID, name="one too many")


async def test_a_member_gone_without_a_word_holds_no_seat(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    raw: Raw,
    hass_ws_client: WebSocketGenerator,
) -> None:
    room = room_of(room_entry)
    vanished: list[str] = []
    for index in range(3):  # join and go: never a clock sample, ready or report
        client = Raw(await hass_ws_client(hass))
        vanished.append((await client.join(name=f"ghost {index}"))[1]["member_id"])
        await client.ws.close()
        await until(lambda: not room.satellite(vanished[-1]).available)
    # The sweep drops them at once, not after the minute a member keeps its identity.
    await sweep(hass)
    assert not set(vanished) & room.coordinator.members.keys()
    # Nor do they count when a join looks for a seat before the sweep.
    ghost = Raw(await hass_ws_client(hass))
    _, last = await ghost.join(name="ghost")
    await ghost.ws.close()
    await until(lambda: not room.satellite(last["member_id"]).available)
    filled = await fill(raw, room)
    assert last["member_id"] not in room.coordinator.members
    assert len(filled) == MAX_ROOM_MEMBERS - 1  # every seat but the local member's


# Removing a member -----------------------------------------------------------------------------


@pytest.fixture
async def owned_room(
    hass: HomeAssistant, tmp_path: Path
) -> AsyncGenerator[tuple[MockConfigEntry, str]]:
    """A room only the (non-admin) user Owner controls, with one local member; Owner's token."""
    owner = regular_user(hass, "Owner")
    entry = await setup_room_entry(
        hass,
        sync_library(tmp_path / "library"),
        room_subentry(local=[("null", 0.0)], control=ROOM_CONTROL_USERS, users=[owner.id]),
    )
    refresh = await hass.auth.async_create_refresh_token(owner, CLIENT_ID)
    yield entry, hass.auth.async_create_access_token(refresh)
    if entry.state.recoverable:
        await hass.config_entries.async_unload(entry.entry_id)


async def test_remove_member_by_an_admin_or_a_controller_only(
    hass: HomeAssistant,
    owned_room: tuple[MockConfigEntry, str],
    hass_ws_client: WebSocketGenerator,
    hass_access_token: str,
    hass_read_only_access_token: str,
) -> None:
    entry, owner_token = owned_room
    room = room_of(entry)
    admin = Raw(await hass_ws_client(hass, hass_access_token))
    controller = Raw(await hass_ws_client(hass, owner_token))
    guest = Raw(await hass_ws_client(hass, hass_read_only_access_token))
    guest_sub, guests = await guest.join(name="guest's")
    _, owners = await controller.join(name="owner's")
    _, admins = await admin.join(name="admin's")

    def ids(joined: dict[str, str]) -> dict[str, str]:
        return {"room_id": ROOM_ID, "member_id": joined["member_id"]}

    # Someone who does not control the room removes nobody else's member.
    for member in (owners, admins, {"member_id": LOCAL_ID}):
        error = await guest.error("room/remove_member", "member_remove_denied", **ids(member))
        assert error["message"] == "You are not allowed to remove members from the room Living room"
    assert {owners["member_id"], admins["member_id"]} <= room.coordinator.members.keys()
    # The room's controller may: the removed satellite is told so and its seat is free.
    assert await controller.ok("room/remove_member", **ids(guests)) == {}
    assert await guest.event(guest_sub, "closed") == {"type": "closed", "reason": "removed"}
    assert guests["member_id"] not in room.coordinator.members
    await guest.works()
    await guest.error("room/ready", "member_not_found", **ids(guests), generation=0)
    # So may an admin, of anyone's member.
    assert await admin.ok("room/remove_member", **ids(owners)) == {}
    assert owners["member_id"] not in room.coordinator.members
    # Errors: unknown member or room, a member of the room's settings.
    await admin.error("room/remove_member", "member_not_found", **ids(owners))
    await admin.error(
        "room/remove_member", "room_not_found", room_id="nowhere", member_id=admins["member_id"]
    )
    local = ids({"member_id": LOCAL_ID})
    error = await admin.error("room/remove_member", "member_not_removable", **local)
    assert "settings of the room Living room" in error["message"]
    assert LOCAL_ID in room.coordinator.members
    # Anyone may remove their own satellite (as leaving does).
    _, again = await guest.join(name="guest's again")
    assert await guest.ok("room/remove_member", **ids(again)) == {}
    assert again["member_id"] not in room.coordinator.members
    await controller.works()


async def test_a_removed_reference_satellite_stops_for_good(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    start: Callable[..., Awaitable[RecordingSatellite]],
    tasks: dict[RecordingSatellite, asyncio.Task[int]],
    raw: Raw,
) -> None:
    room = room_of(room_entry)
    satellite = await start()
    member_id = satellite_member(room, satellite).member_id
    assert await raw.ok("room/remove_member", room_id=ROOM_ID, member_id=member_id) == {}
    assert await asyncio.wait_for(tasks[satellite], TIMEOUT) == EXIT_OK
    assert satellite.received[-1] == {"type": "closed", "reason": "removed"}
    assert room.satellites() == []
