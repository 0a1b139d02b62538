"""Sendspin players in a room: aiosendspin's own client over loopback, through HA's HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from ipaddress import ip_address
from pathlib import Path
import socket
from typing import Any

from aiohttp import WSServerHandshakeError
from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import (
    CONF_CLIENT_ID,
    CONF_OFFSET_MS,
    CONF_ROOM_SENDSPIN_PLAYERS,
    DOMAIN,
    SUBENTRY_SENDSPIN_PLAYER,
)
from custom_components.open_music_box.sync.timeline import Timeline

from .helpers.room_flow import _configure, _fields, _reconfigure, _room, _suggested
from .helpers.rooms import (
    ROOM_ENTITY,
    ROOM_ID,
    call,
    room_of,
    room_subentry,
    setup_room_entry,
    until,
)
from .sendspin_player import (
    STEP_HZ,
    Chunk,
    SendspinTestPlayer,
    connect,
    dominant_hz,
    listen_url,
    play_steps,
    write_steps,
)

SENDSPIN_ID = "sendspin:"


@pytest.fixture
def player() -> SendspinTestPlayer:
    return SendspinTestPlayer()


@pytest.fixture
async def sendspin_room(
    hass: HomeAssistant, tmp_path: Path, player: SendspinTestPlayer
) -> AsyncGenerator[MockConfigEntry]:
    library = tmp_path / "library"
    write_steps(library / "Steps" / "01 Steps.wav")
    write_steps(library / "Steps" / "02 High.wav", (3000, 3000, 3000))
    subentry = room_subentry(local=[("null", 0.0)])
    subentry["data"] = {
        **subentry["data"],
        CONF_ROOM_SENDSPIN_PLAYERS: [{CONF_CLIENT_ID: player.client_id, CONF_OFFSET_MS: 0.0}],
    }
    entry = await setup_room_entry(hass, library, subentry)
    yield entry
    await player.disconnect()
    if hass.config_entries.async_get_entry(entry.entry_id) and entry.state.recoverable:
        await hass.config_entries.async_unload(entry.entry_id)


def member_of(entry: MockConfigEntry, player: SendspinTestPlayer) -> Any:
    return room_of(entry).coordinator.members[SENDSPIN_ID + player.client_id]


def checked(chunks: list[Chunk], timeline: Timeline, freqs: tuple[int, ...] = STEP_HZ) -> int:
    """Assert each chunk inside one second of the track holds that second's tone; count them."""
    count = 0
    for chunk in chunks:
        if chunk.at < timeline.server_time:
            continue  # stamped for an earlier barrier
        start = timeline.position_at(chunk.at)
        end = start + len(chunk.pcm) / 4 / 48_000
        if int(start) != int(end - 1e-6) or int(start) >= len(freqs):
            continue  # across a step: no single tone
        assert abs(dominant_hz(chunk.pcm) - freqs[int(start)]) < 30, (start, chunk.at)
        count += 1
    return count


async def test_sendspin_player_follows_the_room(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    sendspin_room: MockConfigEntry,
    player: SendspinTestPlayer,
) -> None:
    """Audio stamped on the room's timeline, at the room's position; seek, pause, play, next."""
    entry = sendspin_room
    room = room_of(entry)
    member = member_of(entry, player)
    assert not member.available  # configured, not connected yet
    await connect(hass_client, entry, player, hass_access_token)
    await until(lambda: member.available)
    assert member.name == "Kitchen speaker"

    # The room's volume reached the player when it connected; then follows the room's.
    await until(lambda: player.volume == 50 and player.muted is False)
    await call(hass, "volume_set", {"volume_level": 0.3})
    await call(hass, "volume_mute", {"is_volume_muted": True})
    await until(lambda: player.volume == 30 and player.muted is True)
    await call(hass, "volume_mute", {"is_volume_muted": False})

    await play_steps(hass, entry)
    timeline = room.coordinator.timeline
    await until(lambda: checked(player.chunks, timeline) >= 10)

    starts, ends = len(player.starts), player.ends
    await call(hass, "media_seek", {"seek_position": 5.3})
    timeline = room.coordinator.timeline
    assert timeline.position == pytest.approx(5.3)
    await until(lambda: checked(player.since(starts), timeline) >= 10)
    # A seek ends the stream and starts a new one (a player restarts from silence), never
    # clears it while the player plays.
    assert (player.ends, player.clears) == (ends + 1, 0)
    # The stream after the seek begins at the room's new position, at the barrier's start.
    assert timeline.position_at(player.since(starts)[0].at) == pytest.approx(5.3, abs=0.001)

    # Players with a screen show the track and where it is (the room's position).
    await until(lambda: any(m.progress and m.progress.playback_speed for m in player.metadata))
    shown = [m for m in player.metadata if m.progress and m.progress.playback_speed][-1]
    assert (shown.title, shown.progress.track_duration) == ("01 Steps", 10_000)
    assert shown.progress.track_progress == pytest.approx(5300, abs=2)

    ends = player.ends
    await call(hass, "media_pause")
    await until(lambda: player.ends > ends)
    await until(lambda: player.metadata[-1].progress.playback_speed == 0)
    received = len(player.chunks)
    await asyncio.sleep(0.5)
    assert len(player.chunks) == received  # paused: nothing more is sent

    starts = len(player.starts)
    await call(hass, "media_play")
    timeline = room.coordinator.timeline
    await until(lambda: checked(player.since(starts), timeline) >= 5)

    starts = len(player.starts)
    await call(hass, "media_next_track")
    timeline = room.coordinator.timeline
    await until(lambda: checked(player.since(starts), timeline, (3000, 3000, 3000)) >= 5)


async def test_late_joiner_starts_at_the_rooms_position(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    sendspin_room: MockConfigEntry,
    player: SendspinTestPlayer,
) -> None:
    """A player connecting while the room plays gets the audio of where the room is."""
    entry = sendspin_room
    room = room_of(entry)
    await play_steps(hass, entry)
    await asyncio.sleep(1.5)
    await connect(hass_client, entry, player, hass_access_token)
    timeline = room.coordinator.timeline
    await until(lambda: checked(player.chunks, timeline) >= 10)
    first = min(c.at for c in player.chunks)
    assert first > timeline.server_time + 1.0  # not from the start: where the room was


async def test_vanished_player_never_holds_the_room(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    sendspin_room: MockConfigEntry,
    player: SendspinTestPlayer,
) -> None:
    """A player that leaves is unavailable; the room and its mpv member go on, seeks included."""
    entry = sendspin_room
    room = room_of(entry)
    member = member_of(entry, player)
    await connect(hass_client, entry, player, hass_access_token)
    await until(lambda: member.available)
    await play_steps(hass, entry)
    await player.disconnect()
    await until(lambda: not member.available)
    await call(hass, "media_seek", {"seek_position": 3.0})
    assert room.coordinator.barrier is not None
    assert SENDSPIN_ID + player.client_id not in room.coordinator.barrier.ready
    assert len(room.coordinator.barrier.ready) == 1  # the mpv member
    assert hass.states.get("media_player.living_room").state == "playing"


async def test_unauthenticated_player_is_refused(
    hass: HomeAssistant,
    hass_client: Any,
    sendspin_room: MockConfigEntry,
    player: SendspinTestPlayer,
) -> None:
    """No Home Assistant token, or a wrong one: the WebSocket is refused before any Sendspin."""
    with pytest.raises(WSServerHandshakeError) as err:
        await connect(hass_client, sendspin_room, player, "not-a-token")
    assert err.value.status == 401
    assert room_of(sendspin_room).parts.sendspin.players() == {}


async def test_room_flow_offers_the_sendspin_players(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    sendspin_room: MockConfigEntry,
    player: SendspinTestPlayer,
) -> None:
    """Reconfiguring a room lists the box's Sendspin players by name; removing one leaves it."""
    entry = sendspin_room
    room = room_of(entry)
    await connect(hass_client, entry, player, hass_access_token)
    await until(lambda: room.parts.sendspin.players() == {player.client_id: "Kitchen speaker"})

    result = await _reconfigure(hass, entry, ROOM_ID)
    assert _suggested(result, CONF_ROOM_SENDSPIN_PLAYERS) == [player.client_id]
    selector = _fields(result)[CONF_ROOM_SENDSPIN_PLAYERS][1]
    assert selector.config["options"] == [{"value": player.client_id, "label": "Kitchen speaker"}]
    result = await _configure(hass, result, _room("Living room", local=["null"]))
    result = await _configure(hass, result, {"null": 0})
    assert result["reason"] == "reconfigure_successful"
    await until(lambda: SENDSPIN_ID + player.client_id not in room.coordinator.members)

    result = await _reconfigure(hass, entry, ROOM_ID)
    answers = _room("Living room", local=["null"])
    answers[CONF_ROOM_SENDSPIN_PLAYERS] = [player.client_id]
    result = await _configure(hass, result, answers)
    assert list(_fields(result)) == ["null", "Kitchen speaker"]  # the offsets, by name
    result = await _configure(hass, result, {"null": 0, "Kitchen speaker": 120})
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[ROOM_ID].data[CONF_ROOM_SENDSPIN_PLAYERS] == [
        {CONF_CLIENT_ID: player.client_id, CONF_OFFSET_MS: 120.0}
    ]
    await until(lambda: member_of(entry, player).available)

    # Its offset: the player is fed 120 ms early (a speaker that sounds that late).
    starts = len(player.starts)
    await play_steps(hass, entry)
    timeline = room.coordinator.timeline.shifted(0.12)
    await until(lambda: checked(player.since(starts), timeline) >= 10)
    # A stream's first start on a player that just joined may lose its first chunks to
    # aiosendspin's late-join replay (README: Sendspin); what comes is on the timeline.
    assert 0.12 - 1e-5 <= timeline.position_at(player.since(starts)[0].at) < 0.12 + 0.3


async def _add_player(hass: HomeAssistant, entry: MockConfigEntry, url: str) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_SENDSPIN_PLAYER), context={"source": SOURCE_USER}
    )
    assert result["step_id"] == "user"
    return await hass.config_entries.subentries.async_configure(result["flow_id"], {CONF_URL: url})


async def test_pairing_with_the_code_the_player_shows(
    hass: HomeAssistant, socket_enabled: None, sendspin_room: MockConfigEntry
) -> None:
    """A wrong code is refused (the player shows a new one); the right one pairs and adds it."""
    entry = sendspin_room
    speaker = SendspinTestPlayer(name="Bedroom speaker")
    url = await speaker.listen()
    try:
        result = await _add_player(hass, entry, url)
        assert result["step_id"] == "pair"
        assert result["description_placeholders"] == {"name": "Bedroom speaker"}
        shown = await asyncio.wait_for(speaker.codes.get(), 10)
        wrong = f"{(int(shown) + 1) % 1_000_000:06d}"
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"code": wrong}
        )
        assert result["errors"] == {"base": "pairing_code_wrong"}
        hub = room_of(entry).parts.sendspin
        assert await hub.server.pairing_store.record_by_client_id(speaker.client_id) is None

        while not speaker.codes.empty():
            shown = speaker.codes.get_nowait()
        shown = shown if shown != wrong else await asyncio.wait_for(speaker.codes.get(), 10)
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"code": f"{shown[:3]}-{shown[3:]}"}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["title"] == "Bedroom speaker"
        (added,) = [s for s in entry.subentries.values() if s.unique_id == speaker.client_id]
        assert added.data == {CONF_CLIENT_ID: speaker.client_id, CONF_URL: url}
        assert await hub.server.pairing_store.record_by_client_id(speaker.client_id) is not None
        assert hub.players()[speaker.client_id] == "Bedroom speaker"

        # The same player again: already there.
        result = await _add_player(hass, entry, url)
        assert result["reason"] == "already_configured"
    finally:
        await speaker.disconnect()


async def test_adding_a_player_checks_the_url(
    hass: HomeAssistant, socket_enabled: None, sendspin_room: MockConfigEntry
) -> None:
    """Not a ws:// URL, or nobody there: the form says so."""
    result = await _add_player(hass, sendspin_room, "http://127.0.0.1:1/sendspin")
    assert result["errors"] == {CONF_URL: "url_invalid"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await _add_player(hass, sendspin_room, f"ws://127.0.0.1:{port}/sendspin")
    assert result["errors"] == {CONF_URL: "player_unreachable"}


def _advertised(url: str, name: str) -> ZeroconfServiceInfo:
    port = int(url.rsplit(":", 1)[1].split("/", maxsplit=1)[0])
    return ZeroconfServiceInfo(
        ip_address=ip_address("127.0.0.1"),
        ip_addresses=[ip_address("127.0.0.1")],
        hostname="speaker.local.",
        name=f"{name}._sendspin._tcp.local.",
        port=port,
        type="_sendspin._tcp.local.",
        properties={"path": "/sendspin", "name": name},
    )


async def test_discovered_player_is_offered_and_paired_with_a_box(
    hass: HomeAssistant, socket_enabled: None, sendspin_room: MockConfigEntry
) -> None:
    """Zeroconf finds a player: "Kitchen speaker (Sendspin)"; pick the box, type the code."""
    entry = sendspin_room
    speaker = SendspinTestPlayer(name="Kitchen speaker")
    url = await speaker.listen()
    try:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_advertised(url, "Kitchen speaker")
        )
        assert result["step_id"] == "zeroconf_confirm"
        (progress,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert progress["context"]["title_placeholders"] == {"name": "Kitchen speaker (Sendspin)"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"box": entry.entry_id}
        )
        assert result["step_id"] == "pair"
        shown = await asyncio.wait_for(speaker.codes.get(), 10)
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {"code": shown})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "player_added"
        (added,) = [s for s in entry.subentries.values() if s.unique_id == speaker.client_id]
        assert added.title == "Kitchen speaker"
        assert added.data[CONF_URL] == url
        assert len(hass.config_entries.async_entries(DOMAIN)) == 1  # no new entry

        # Advertised again (a restart, another interface): nothing more to offer.
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_advertised(url, "Kitchen speaker")
        )
        assert result["reason"] == "already_configured_player"
    finally:
        await speaker.disconnect()


async def test_discovered_player_gone_or_no_box_left(
    hass: HomeAssistant, socket_enabled: None, sendspin_room: MockConfigEntry
) -> None:
    """A player gone before its box is picked: the form says so; no box loaded: nothing to offer."""
    entry = sendspin_room
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    advertised = _advertised(f"ws://127.0.0.1:{port}/sendspin", "Gone speaker")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=advertised
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"box": entry.entry_id}
    )
    assert result["step_id"] == "zeroconf_confirm"
    assert result["errors"] == {"base": "player_unreachable"}
    await hass.config_entries.async_unload(entry.entry_id)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"box": entry.entry_id}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_box"


async def test_bad_frames_change_nothing_for_the_others(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    sendspin_room: MockConfigEntry,
    player: SendspinTestPlayer,
) -> None:
    """An authenticated connection sending garbage is closed; the player and the room go on."""
    entry = sendspin_room
    room = room_of(entry)
    await connect(hass_client, entry, player, hass_access_token)
    await until(lambda: member_of(entry, player).available)
    await play_steps(hass, entry)
    timeline = room.coordinator.timeline

    client = await hass_client()
    for junk in (b"\x00\xff" * 64, "not json", '{"type": "client/hello"}'):
        ws = await client.ws_connect(f"/api/open_music_box/sendspin/{entry.entry_id}")
        if isinstance(junk, bytes):
            await ws.send_bytes(junk)
        else:
            await ws.send_str(junk)
        await asyncio.wait_for(ws.receive(), 10)  # closed (or an error) by the server
        await ws.close()

    received = len(player.chunks)
    await until(lambda: len(player.chunks) > received + 5)
    assert checked(player.chunks, timeline) >= 5
    assert member_of(entry, player).available
    assert room.parts.sendspin.players() == {player.client_id: "Kitchen speaker"}
    assert hass.states.get("media_player.living_room").state == "playing"


async def test_identity_is_kept_across_restarts_and_removed_with_the_box(
    hass: HomeAssistant, hass_storage: dict[str, Any], sendspin_room: MockConfigEntry
) -> None:
    """Players paired with a box find the same server after a restart; a deleted box forgets."""
    entry = sendspin_room
    key = f"open_music_box.sendspin.{entry.entry_id}"
    server_id = room_of(entry).parts.sendspin.server.id
    assert key in hass_storage
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert room_of(entry).parts.sendspin.server.id == server_id
    assert await hass.config_entries.async_remove(entry.entry_id)
    assert key not in hass_storage


async def test_browser_joins_with_a_signed_path(
    hass: HomeAssistant, hass_client: Any, hass_ws_client: Any, sendspin_room: MockConfigEntry
) -> None:
    """Listen here: a signed path (no token on a browser's WebSocket), then join the room."""
    entry = sendspin_room
    room = room_of(entry)
    browser = SendspinTestPlayer(name="Browser")
    ws = await hass_ws_client(hass)
    command = "open_music_box/sendspin/listen_url"
    await ws.send_json({"id": 1, "type": command, "config_entry_id": "nope"})
    assert (await ws.receive_json())["error"]["code"] == "entry_not_found"
    await ws.send_json({"id": 2, "type": command, "config_entry_id": entry.entry_id})
    path = (await ws.receive_json())["result"]["path"]
    assert path.startswith(f"/api/open_music_box/sendspin/{entry.entry_id}?authSig=")

    # Not connected yet: nothing to join.
    join = {"type": "open_music_box/sendspin/join", "room_id": ROOM_ID}
    await ws.send_json({"id": 3, **join, "client_id": browser.client_id})
    assert (await ws.receive_json())["error"]["code"] == "member_not_found"

    client = await hass_client()
    url = str(client.make_url("/")).rstrip("/").replace("http://", "ws://") + path
    await browser.connect(url, None)
    await until(lambda: browser.client_id in room.parts.sendspin.players())
    await play_steps(hass, entry)
    await ws.send_json({"id": 4, **join, "client_id": browser.client_id})
    reply = await ws.receive_json()
    assert reply["result"] == {"member_id": SENDSPIN_ID + browser.client_id}
    timeline = room.coordinator.timeline
    await until(lambda: checked(browser.chunks, timeline) >= 10)  # a late joiner, in step
    await until(
        lambda: (
            SENDSPIN_ID + browser.client_id
            in [m["member_id"] for m in hass.states.get(ROOM_ENTITY).attributes["members"]]
        )
    )

    await browser.disconnect()  # leaving the page leaves the room
    await until(lambda: SENDSPIN_ID + browser.client_id not in room.coordinator.members)
    assert browser.client_id not in str(entry.subentries[ROOM_ID].data)  # nothing stored


async def test_listen_here_takes_the_users_seats(
    hass: HomeAssistant,
    hass_client: Any,
    hass_ws_client: Any,
    hass_read_only_access_token: str,
    sendspin_room: MockConfigEntry,
) -> None:
    """A non-admin cannot fill a room with Listen here players: they count with his satellites
    against the box's `members_per_user`; an administrator is not limited by it."""
    entry = sendspin_room
    room = room_of(entry)
    hass.config_entries.async_update_entry(entry, options={**entry.options, "members_per_user": 2})
    guest = await hass_ws_client(hass, hass_read_only_access_token)
    url = await listen_url(guest, hass_client, entry)
    browsers = [SendspinTestPlayer(name=f"Tab {index}") for index in range(3)]
    for browser in browsers:
        await browser.connect(url, None)
    await until(lambda: all(b.client_id in room.parts.sendspin.players() for b in browsers))
    join = {"type": "open_music_box/sendspin/join", "room_id": ROOM_ID}

    async def reply(ws: Any, msg_id: int) -> dict[str, Any]:
        """Return the result of message `msg_id` (a joined satellite's events come between)."""
        while (msg := await ws.receive_json())["type"] != "result" or msg["id"] != msg_id:
            pass
        return dict(msg)

    await guest.send_json({"id": 2, "type": "open_music_box/room/join", "room_id": ROOM_ID})
    assert (await reply(guest, 2))["success"]  # a satellite: one seat of two
    await guest.send_json({"id": 3, **join, "client_id": browsers[0].client_id})
    member_id = SENDSPIN_ID + browsers[0].client_id
    assert (await reply(guest, 3))["result"] == {"member_id": member_id}
    await guest.send_json({"id": 4, **join, "client_id": browsers[1].client_id})
    assert (await reply(guest, 4))["error"]["code"] == "room_user_full"
    assert SENDSPIN_ID + browsers[1].client_id not in room.coordinator.members
    admin = await hass_ws_client(hass)
    for msg_id, browser in enumerate(browsers[1:], start=1):
        await admin.send_json({"id": msg_id, **join, "client_id": browser.client_id})
        assert (await reply(admin, msg_id))["success"]
    # The guest's tab leaves: its seat is free again.
    await browsers[0].disconnect()
    await until(lambda: SENDSPIN_ID + browsers[0].client_id not in room.coordinator.members)
    await guest.send_json({"id": 5, "type": "open_music_box/room/join", "room_id": ROOM_ID})
    assert (await reply(guest, 5))["success"]
    for browser in browsers[1:]:
        await browser.disconnect()
