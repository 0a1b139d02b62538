"""The WebSocket API: de-duplication by operation id and the rate limit.

Real HA core, real libmpv (ao=null).
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.api import websocket as ws_module
from custom_components.open_music_box.api.websocket import RATE_LIMIT_PER_SECOND
from custom_components.open_music_box.events import (
    EVENT_TRACK_STARTED,
    OP_TTL_SECONDS,
)

from .helpers.ws import (  # noqa: F401 (fixtures)
    ADMIN_ONLY,
    ANIMALS,
    AUDIOBOOK,
    MIX,
    TIMEOUT,
    Client,
    Clock,
    admin,
    expect_error,
    hub_clock,
    ids,
    rate_clock,
    reader,
    unhurried,
    watcher,
)

# De-duplication ----------------------------------------------------------------------------


async def test_same_client_op_id_acts_once(
    hass: HomeAssistant, admin: Client, watcher: Client, ids: dict[str, str]
) -> None:
    feed = await watcher.feed()
    first = await admin.ok("playlists/create", name="Once", client_op_id="op-1")
    again = await admin.ok("playlists/create", name="Once", client_op_id="op-1")
    assert again == first
    # The op id names the operation: a repeat with other fields still gets the first result.
    assert await admin.ok("playlists/create", name="Twice", client_op_id="op-1") == first
    names = [p["name"] for p in (await admin.ok("playlists/list"))["playlists"]]
    assert names.count("Once") == 1
    assert "Twice" not in names
    assert first["seq"] == feed.seen + 1
    assert [e["type"] for e in await feed.until(first["seq"])] == ["playlists"]

    # A repeat sent before the first has finished waits for it: one track start, one result.
    started = async_capture_events(hass, EVENT_TRACK_STARTED)
    msg_ids = [
        await admin.send("player/play_playlist", playlist_id=AUDIOBOOK, client_op_id="op-2")
        for _ in range(3)
    ]
    replies = [await admin.reply(msg_id) for msg_id in msg_ids]
    assert all(r["success"] for r in replies), replies
    assert replies[0]["result"] == replies[1]["result"] == replies[2]["result"]
    await hass.async_block_till_done()
    assert len(started) == 1
    assert started[0].data["track_id"] == ids["Chapter 1"]
    states = await feed.of_type(replies[0]["result"]["seq"], "player")
    assert [s["state"] for s in states] == ["playing"]


async def test_client_op_id_is_per_user(admin: Client, reader: Client, watcher: Client) -> None:
    feed = await watcher.feed()
    first = await admin.ok("player/volume", volume=0.2, client_op_id="same")
    second = await reader.ok("player/volume", volume=0.3, client_op_id="same")
    assert second["seq"] > first["seq"]
    states = await feed.of_type(second["seq"], "player")
    assert [s["volume"] for s in states] == [0.2, 0.3]
    # Each user's repeat gets its own first result.
    assert await admin.ok("player/volume", volume=0.9, client_op_id="same") == first
    assert await reader.ok("player/volume", volume=0.9, client_op_id="same") == second


async def test_repeat_of_a_failed_op_gets_the_same_error(
    admin: Client, ids: dict[str, str]
) -> None:
    mine = (await admin.ok("playlists/create", name="Mine"))["id"]
    first = await admin.error(
        "playlists/add_tracks",
        "unknown_track",
        playlist_id=mine,
        track_ids=["t0"],
        client_op_id="a",
    )
    # Same op id, now with a valid track: still the first outcome, and no effect.
    again = await admin.error(
        "playlists/add_tracks",
        "unknown_track",
        playlist_id=mine,
        track_ids=[ids["Dog"]],
        client_op_id="a",
    )
    assert again == first
    assert (await admin.ok("playlists/get", playlist_id=mine))["track_ids"] == []
    await admin.ok(
        "playlists/add_tracks", playlist_id=mine, track_ids=[ids["Dog"]], client_op_id="b"
    )
    assert (await admin.ok("playlists/get", playlist_id=mine))["track_ids"] == [ids["Dog"]]


async def test_client_op_id_expires(
    hass: HomeAssistant, entry: MockConfigEntry, admin: Client, hub_clock: Clock
) -> None:
    first = await admin.ok("playlists/create", name="Kept", client_op_id="op")
    hub_clock.offset = OP_TTL_SECONDS - 1
    assert await admin.ok("playlists/create", name="Kept", client_op_id="op") == first
    hub_clock.offset = OP_TTL_SECONDS + 1
    later = await admin.ok("playlists/create", name="Kept", client_op_id="op")
    assert later["id"] != first["id"]
    assert later["seq"] > first["seq"]
    names = [p["name"] for p in (await admin.ok("playlists/list"))["playlists"]]
    assert names.count("Kept") == 2
    assert entry.runtime_data.events.diagnostics()["op_dedup"] == 1


# Rate limit ----------------------------------------------------------------------------


async def test_rate_limit_per_connection(admin: Client, watcher: Client, rate_clock: Clock) -> None:
    burst = RATE_LIMIT_PER_SECOND + 10
    msg_ids = [await admin.send("playlists/list") for _ in range(burst)]
    replies = [await admin.reply(msg_id) for msg_id in msg_ids]
    served = [r for r in replies if r["success"]]
    limited = [r for r in replies if not r["success"]]
    assert len(served) == RATE_LIMIT_PER_SECOND
    assert len(limited) == burst - RATE_LIMIT_PER_SECOND
    assert all(r["error"]["code"] == "rate_limited" for r in limited)
    assert replies[:RATE_LIMIT_PER_SECOND] == [
        {**r, "id": m} for r, m in zip(served, msg_ids, strict=False)
    ]
    # Still open, still limited within the same second; another connection is not.
    assert not admin.ws.closed
    await admin.error("player/play", "rate_limited")
    await watcher.works()
    # A second later the first connection is served again.
    rate_clock.frozen = (rate_clock.frozen or 0) + 1.0
    await admin.works()


async def test_rate_limit_leaves_out_subscribe_and_refused_commands(
    admin: Client, reader: Client, rate_clock: Clock
) -> None:
    for _ in range(RATE_LIMIT_PER_SECOND + 5):
        await reader.error("rescan", "unauthorized")
    for _ in range(3):
        await reader.feed()
    for _ in range(RATE_LIMIT_PER_SECOND):
        await reader.works()
    await reader.error("playlists/list", "rate_limited")
    await reader.error("player/play", "rate_limited", volume="malformed and still counted")
    feed = await reader.feed()  # subscribing is not limited
    assert feed.events[0]["type"] == "snapshot"
    await admin.works()


async def test_rate_limit_window_is_dropped_with_the_connection(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    # Closed sockets must leave no state behind.
    windows = hass.data.setdefault(ws_module.RATE_WINDOWS, {})
    before = len(windows)
    client = Client(await hass_ws_client(hass), entry.entry_id)
    await client.works()
    assert len(windows) == before + 1
    await client.ws.close()
    await hass.async_block_till_done()
    for _ in range(100):  # HA notices the close on its side of the socket
        if len(windows) == before:
            break
        await asyncio.sleep(0.01)
    assert len(windows) == before
