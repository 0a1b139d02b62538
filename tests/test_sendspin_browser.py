"""A browser's player (`@sendspin/sendspin-js` speaks no Noise): plain Sendspin on the signed path.

The hello and state below are what sendspin-js 3.2.1 sends (core/protocol-handler.js).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.sendspin.stream import LATE_LEAD_SECONDS, player_lead
from custom_components.open_music_box.sync.timeline import server_time

from .helpers.rooms import (
    ROOM_ENTITY,
    ROOM_ID,
    call,
    room_of,
    room_subentry,
    setup_room_entry,
    until,
)
from .sendspin_player import listen_url, play_steps, write_steps

BROWSER_ID = "omb-browser-test"
HELLO = {
    "type": "client/hello",
    "payload": {
        "client_id": BROWSER_ID,
        "name": "Dev (browser)",
        "version": 1,
        "supported_roles": ["player@v1", "controller@v1", "metadata@v1"],
        "device_info": {"product_name": "Web Browser", "manufacturer": "Test"},
        "player@v1_support": {
            "supported_formats": [
                {"codec": "pcm", "sample_rate": 48000, "channels": 2, "bit_depth": 16}
            ],
            "buffer_capacity": 1_000_000,
            "supported_commands": ["volume", "mute"],
        },
    },
}
STATE = {
    "type": "client/state",
    "payload": {
        "player": {
            "state": "synchronized",
            "volume": 80,
            "muted": False,
            "static_delay_ms": 0,
            "required_lead_time_ms": 250,
            "min_buffer_ms": 250,
            "supported_commands": ["set_static_delay"],
        }
    },
}


@pytest.fixture
async def room_entry(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[MockConfigEntry]:
    library = tmp_path / "library"
    write_steps(library / "Steps" / "01 Steps.wav")
    entry = await setup_room_entry(hass, library, room_subentry(local=[("null", 0.0)]))
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


async def _plain_player(
    url: str, audio: list[bytes], commands: list[dict[str, Any]], state: dict[str, Any] = STATE
) -> tuple[ClientSession, ClientWebSocketResponse, asyncio.Task[None]]:
    session = ClientSession()
    ws = await session.ws_connect(url)
    await ws.send_json(HELLO)
    hello = await ws.receive_json()
    assert hello["type"] == "server/hello", hello
    await ws.send_json(state)

    async def read() -> None:
        async for msg in ws:
            if msg.type is WSMsgType.BINARY:
                audio.append(msg.data)
            elif msg.type is WSMsgType.TEXT and '"server/command"' in msg.data:
                commands.append(msg.json())

    return session, ws, asyncio.create_task(read())


async def test_plain_browser_player_joins_a_room(
    hass: HomeAssistant, hass_client: Any, hass_ws_client: Any, room_entry: MockConfigEntry
) -> None:
    """Signed path + plain hello: accepted; join lists it; it keeps its own volume; it leaves."""
    room = room_of(room_entry)
    ws = await hass_ws_client(hass)
    url = await listen_url(ws, hass_client, room_entry)
    audio: list[bytes] = []
    commands: list[dict[str, Any]] = []
    server = room.parts.sendspin.server
    # What the player's events start (rejoins, streams, dials) is outside its inbound leave.
    seen: list[bool] = []
    room.parts.sendspin.listen(BROWSER_ID, lambda _up: seen.append(server.allow_unencrypted))
    session, player, reader = await _plain_player(url, audio, commands)
    try:
        await until(lambda: BROWSER_ID in room.parts.sendspin.players())
        await ws.send_json(
            {
                "id": 2,
                "type": "open_music_box/sendspin/join",
                "room_id": ROOM_ID,
                "client_id": BROWSER_ID,
            }
        )
        assert (await ws.receive_json())["result"] == {"member_id": f"sendspin:{BROWSER_ID}"}
        members = lambda: hass.states.get(ROOM_ENTITY).attributes["members"]  # noqa: E731
        await until(lambda: f"sendspin:{BROWSER_ID}" in [m["member_id"] for m in members()])
        # Its static offset (the output bench's calibration): set for this connection only.
        stored = dict(room.config)
        await ws.send_json(
            {
                "id": 3,
                "type": "open_music_box/rooms/set_offset",
                "entry_id": room_entry.entry_id,
                "room_id": ROOM_ID,
                "member_id": f"sendspin:{BROWSER_ID}",
                "offset_ms": 40.0,
            }
        )
        reply = await ws.receive_json()
        assert reply["success"], reply
        assert room.coordinator.members[f"sendspin:{BROWSER_ID}"].offset == pytest.approx(0.04)
        assert room.config == stored
        await play_steps(hass, room_entry)
        await until(lambda: len(audio) >= 5)  # the room's audio reaches it
        await call(hass, "volume_set", {"volume_level": 0.2})
        await asyncio.sleep(0.3)
        # Its own volume (the card's slider): the room's does not move it.
        assert not [c for c in commands if "volume" in str(c["payload"].get("player"))]
    finally:
        await player.close()
        await session.close()
        await reader
    await until(lambda: f"sendspin:{BROWSER_ID}" not in room.coordinator.members)
    assert seen == [False, False]  # connected, then gone


async def test_a_browser_gets_the_lead_it_reports(
    hass: HomeAssistant, hass_client: Any, hass_ws_client: Any, room_entry: MockConfigEntry
) -> None:
    """A player with a static delay gets its first audio that much earlier than the others'.

    sendspin-js plays its static delay (200 ms + the output latency on Linux) ahead of the
    timestamps, and needs its startup lead (250 ms) before that: the lead it reports is what
    it is given (a room's barrier starts 1 s ahead anyway; a late joiner and a box's own
    Sendspin output start that lead ahead), so its first audio is not already due.
    """
    room = room_of(room_entry)
    ws = await hass_ws_client(hass)
    url = await listen_url(ws, hass_client, room_entry)
    audio: list[bytes] = []
    state = {"type": "client/state", "payload": {"player": {**STATE["payload"]["player"]}}}
    state["payload"]["player"]["static_delay_ms"] = 240
    session, player, reader = await _plain_player(url, audio, [], state)
    try:
        await until(lambda: BROWSER_ID in room.parts.sendspin.players())
        await until(lambda: player_lead(room.parts.sendspin.client(BROWSER_ID)) > LATE_LEAD_SECONDS)
        assert player_lead(room.parts.sendspin.client(BROWSER_ID)) == pytest.approx(0.49)
        await ws.send_json(
            {"id": 2, "type": "open_music_box/sendspin/join", "room_id": ROOM_ID}
            | {"client_id": BROWSER_ID}
        )
        assert (await ws.receive_json())["success"]
        asked = server_time()
        await play_steps(hass, room_entry)
        await until(lambda: len(audio) >= 1)
        first_us = int.from_bytes(audio[0][1:9], "big", signed=True)
        assert first_us / 1_000_000 >= asked + 0.49  # 250 ms + 240 ms
    finally:
        await player.close()
        await session.close()
        await reader


async def test_dialed_players_still_need_noise(
    hass: HomeAssistant, room_entry: MockConfigEntry
) -> None:
    """Plain Sendspin is allowed only inside an authenticated inbound connection."""
    server = room_of(room_entry).parts.sendspin.server
    assert server is not None
    assert server.allow_unencrypted is False


async def test_a_listening_browser_is_removed_from_the_panel(
    hass: HomeAssistant, hass_client: Any, hass_ws_client: Any, room_entry: MockConfigEntry
) -> None:
    """rooms/remove_member drops a player that joined for itself; the settings stay as they were."""
    room = room_of(room_entry)
    ws = await hass_ws_client(hass)
    url = await listen_url(ws, hass_client, room_entry)
    audio: list[bytes] = []
    session, player, reader = await _plain_player(url, audio, [])
    member_id = f"sendspin:{BROWSER_ID}"
    try:
        await until(lambda: BROWSER_ID in room.parts.sendspin.players())
        await ws.send_json(
            {"id": 2, "type": "open_music_box/sendspin/join", "room_id": ROOM_ID}
            | {"client_id": BROWSER_ID}
        )
        assert (await ws.receive_json())["success"]
        stored = dict(room.config)
        await ws.send_json(
            {
                "id": 3,
                "type": "open_music_box/rooms/remove_member",
                "entry_id": room_entry.entry_id,
                "room_id": ROOM_ID,
                "member_id": member_id,
            }
        )
        reply = await ws.receive_json()
        assert reply["success"], reply
        assert member_id not in room.coordinator.members
        assert room.config == stored
        members = [m["member_id"] for m in hass.states.get(ROOM_ENTITY).attributes["members"]]
        assert member_id not in members
        # Still connected, no longer a member: the room's audio does not reach it.
        await play_steps(hass, room_entry)
        await asyncio.sleep(0.5)
        assert member_id not in room.coordinator.members
        assert audio == []
    finally:
        await player.close()
        await session.close()
        await reader
