"""Satellites of a sync room: recording clients, raw connections, the fixtures that start them."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MockHAClientWebSocket,
    WebSocketGenerator,
)

from custom_components.open_music_box.api.websocket import RATE_LIMIT_PER_SECOND
from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.sync.room import SWEEP_SECONDS, Room
from custom_components.open_music_box.sync.satellite_member import (
    SatelliteMember,
)
from custom_components.open_music_box.sync.timeline import TimelineState, server_time
from omb_satellite import Satellite

from .rooms import ROOM_ENTITY, ROOM_ID, room_subentry, setup_room_entry, sync_library, until
from .ws import Client

SYNC_MS = 10.0  # a satellite on the room's line within this (loopback; reports are 0.5 s apart)


CONVERGE_SECONDS = 8.0  # a guard against a hang, not a measured figure


TIMEOUT = 20.0  # likewise


LOCAL_ID = "local:null"


NAME = "kitchen"


class RecordingSatellite(Satellite):
    """The reference satellite, also keeping what HA sent on its join subscriptions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[dict[str, Any]] = []  # room events, in order, across connections
        self.join_results: list[dict[str, Any]] = []

    def _route(self, message: dict[str, Any], received: float, events: Any) -> None:
        if message.get("id") is not None and message.get("id") == self._join_id:
            if message.get("type") == "event":
                self.received.append(message.get("event") or {})
            elif message.get("type") == "result" and message.get("success"):
                self.join_results.append(message["result"])
        super()._route(message, received, events)

    def kinds(self) -> list[str]:
        """Return the types of the events received so far."""
        return [str(event.get("type")) for event in self.received]


SatelliteFactory = Callable[..., Awaitable[RecordingSatellite]]


class Raw(Client):
    """A WebSocket connection that speaks the satellite protocol by hand.

    It paces itself under the server's rate limit (as a well-behaved client does) unless told
    not to, so a long list of bad messages is answered one by one, not refused as a burst.
    """

    def __init__(self, ws: MockHAClientWebSocket) -> None:
        super().__init__(ws, entry_id="")  # satellites name rooms, not boxes
        self.read_upto: defaultdict[int, int] = defaultdict(int)
        self._sent: deque[float] = deque()

    async def send(self, command: str, /, paced: bool = True, **fields: Any) -> int:
        """Send `open_music_box/<command>` with the fields as they are; return its id."""
        if paced:
            while len(self._sent) >= RATE_LIMIT_PER_SECOND - 2:
                wait = self._sent[0] + 1.05 - time.monotonic()
                if wait <= 0:
                    self._sent.popleft()
                else:
                    await asyncio.sleep(wait)
        self._sent.append(time.monotonic())
        msg: dict[str, Any] = {"type": f"{DOMAIN}/{command}", **fields}
        await self.ws.send_json_auto_id(msg)
        return int(msg["id"])

    async def join(self, room_id: str = ROOM_ID, **fields: Any) -> tuple[int, dict[str, Any]]:
        """Join a room; return the subscription id and the result."""
        msg_id = await self.send("room/join", room_id=room_id, **fields)
        reply = await self.reply(msg_id)
        assert reply["success"], reply
        return msg_id, reply["result"]

    async def event(self, sub_id: int, kind: str | None = None) -> dict[str, Any]:
        """Return the next unread event of a subscription (of `kind`: skip the others)."""
        while True:
            while self.read_upto[sub_id] >= len(self.events[sub_id]):
                await self.read()
            event = self.events[sub_id][self.read_upto[sub_id]]
            self.read_upto[sub_id] += 1
            if kind is None or event["type"] == kind:
                return event

    async def works(self) -> None:
        """Check that the connection still serves commands: a clock sample."""
        result = await self.ok("time")
        assert result["t2"] <= result["t3"]


@pytest.fixture
async def room_entry(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[MockConfigEntry]:
    """A box with the room Living room, one local libmpv member (null output)."""
    library = sync_library(tmp_path / "library")
    entry = await setup_room_entry(hass, library, room_subentry(local=[("null", 0.0)]))
    yield entry
    if entry.state.recoverable:
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def base_url(
    hass: HomeAssistant, aiohttp_client: ClientSessionGenerator, socket_enabled: None
) -> str:
    """HA's HTTP server on a real loopback socket, as a satellite's --url."""
    assert await async_setup_component(hass, "websocket_api", {})
    server = await aiohttp_client(hass.http.app)
    return str(server.make_url("/")).rstrip("/")


@pytest.fixture
async def satellites(
    hass: HomeAssistant, room_entry: MockConfigEntry, base_url: str, hass_access_token: str
) -> AsyncGenerator[tuple[SatelliteFactory, dict[RecordingSatellite, asyncio.Task[int]]]]:
    """Start reference satellites (ao=null) in the event loop; stop them all at the end."""
    running: dict[RecordingSatellite, asyncio.Task[int]] = {}

    async def start(name: str = NAME) -> RecordingSatellite:
        satellite = RecordingSatellite(base_url, hass_access_token, ROOM_ID, name=name, ao="null")
        task = asyncio.create_task(satellite.run())
        running[satellite] = task
        await until(lambda: satellite.joined.is_set() or task.done(), TIMEOUT)
        assert satellite.joined.is_set(), f"the satellite did not join (exit {task.result()})"
        return satellite

    yield start, running
    for satellite, task in running.items():
        await satellite.stop()
        await task


@pytest.fixture
def start(
    satellites: tuple[SatelliteFactory, dict[RecordingSatellite, asyncio.Task[int]]],
) -> SatelliteFactory:
    """Start a satellite; wait until it has joined."""
    return satellites[0]


@pytest.fixture
def tasks(
    satellites: tuple[SatelliteFactory, dict[RecordingSatellite, asyncio.Task[int]]],
) -> dict[RecordingSatellite, asyncio.Task[int]]:
    """The run() task of each satellite started."""
    return satellites[1]


@pytest.fixture
async def raw(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, room_entry: MockConfigEntry
) -> Raw:
    """A raw connection of the admin user."""
    return Raw(await hass_ws_client(hass))


def error_ms(room: Room, member_id: str) -> float | None:
    """A member's last measurement against the room's line at that measurement's time, in ms."""
    member = room.coordinator.members.get(member_id)
    if member is None or (measured := member.measure(server_time())) is None:
        return None
    at, position = measured
    return (position - room.coordinator.timeline.shifted(member.offset).position_at(at)) * 1000


def in_step(room: Room, member_id: str) -> bool:
    """Whether a member is measured on the room's playing line, within SYNC_MS."""
    error = error_ms(room, member_id)
    playing = room.coordinator.timeline.state is TimelineState.PLAYING
    return playing and error is not None and abs(error) < SYNC_MS


async def assert_in_step(room: Room, *member_ids: str) -> None:
    """Wait until every member named is measured on the room's line, within SYNC_MS."""
    await until(lambda: all(in_step(room, m) for m in member_ids), CONVERGE_SECONDS)


def shown(hass: HomeAssistant) -> dict[str, dict[str, Any]]:
    """The room entity's members attribute, by member id."""
    current = hass.states.get(ROOM_ENTITY)
    assert current is not None
    return {member["member_id"]: member for member in current.attributes["members"]}


def room_state(hass: HomeAssistant) -> str:
    current = hass.states.get(ROOM_ENTITY)
    assert current is not None
    return current.state


async def mpv_time_pos(satellite: Satellite) -> float:
    """Read the satellite's mpv position on its own libmpv thread (after its queued calls)."""
    player = satellite.player
    return float(await player._run(getattr, player._mpv, "time_pos"))


def satellite_member(room: Room, satellite: Satellite) -> SatelliteMember:
    assert satellite.member_id is not None
    return room.satellite(satellite.member_id)


async def sweep(hass: HomeAssistant) -> None:
    """Let the room's zombie sweep run (its 5 s timer fired now)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=SWEEP_SECONDS + 1))
    await hass.async_block_till_done()


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
