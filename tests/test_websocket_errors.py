"""The WebSocket API: permissions, and errors that keep the connection open.

Real HA core, real libmpv (ao=null).
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import WSMsgType
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.api.operations import MAX_POSITION_MS
from custom_components.open_music_box.api.validation import MAX_REF_LENGTH, MAX_TRACKS_PER_CALL
from custom_components.open_music_box.catalog import MAX_NAME_LENGTH
from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.events import (
    POSITION_INTERVAL,
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

# Permissions ----------------------------------------------------------------------------


async def test_non_admin_is_refused_changes_and_allowed_playback(
    admin: Client, reader: Client, ids: dict[str, str], unhurried: None
) -> None:
    mine = (await admin.ok("playlists/create", name="Mine", track_ids=[ids["Dog"]]))["id"]
    before = await admin.ok("playlists/list")
    for name, template in ADMIN_ONLY:
        fields = {k: mine if v == "u1" else v for k, v in template.items()}
        error = await reader.error(name, "unauthorized", **fields)
        assert (error["translation_domain"], error["translation_key"]) == (DOMAIN, "admin_only")
        assert error["message"] == "Only an administrator can do this"
        await reader.works()
    # The permission is checked first, even before the fields.
    await reader.error("playlists/create", "unauthorized")
    await reader.error("playlists/rename", "unauthorized", playlist_id=5, extra=True)
    # Refused even with a client_op_id, and nothing changed.
    await reader.error("playlists/delete", "unauthorized", playlist_id=mine, client_op_id="op")
    after = await admin.ok("playlists/list")
    assert after == before
    assert (await admin.ok("playlists/get", playlist_id=mine))["track_ids"] == [ids["Dog"]]

    # Reading and playback control are open to every user.
    feed = await reader.feed()
    assert feed.events[0]["type"] == "snapshot"
    assert (await reader.ok("playlists/get", playlist_id=mine))["name"] == "Mine"
    result = await reader.ok("player/play_playlist", playlist_id=AUDIOBOOK)
    state = (await feed.of_type(result["seq"], "player"))[-1]
    assert state["state"] == "playing"
    result = await reader.ok("player/volume", volume=0.4, client_op_id="v")
    assert (await feed.of_type(result["seq"], "player"))[-1]["volume"] == 0.4
    result = await reader.ok("player/pause")
    assert (await feed.of_type(result["seq"], "player"))[-1]["state"] == "paused"


# Errors ----------------------------------------------------------------------------


async def test_unknown_things_are_specific_errors(
    hass: HomeAssistant, admin: Client, ids: dict[str, str], unhurried: None
) -> None:
    other = MockConfigEntry(domain="other_domain", title="Other")
    other.add_to_hass(hass)
    mine = (await admin.ok("playlists/create", name="Mine", track_ids=[ids["Dog"]]))["id"]
    yours = (await admin.ok("playlists/create", name="Yours"))["id"]
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("playlists/list", "entry_not_found", {"entry_id": "0123"}),
        ("player/play", "entry_not_found", {"entry_id": other.entry_id}),
        ("subscribe", "entry_not_found", {"entry_id": "0123"}),
        ("playlists/get", "unknown_playlist", {"playlist_id": "u0"}),
        ("playlists/rename", "unknown_playlist", {"playlist_id": "u0", "name": "X"}),
        ("playlists/delete", "unknown_playlist", {"playlist_id": "u0"}),
        ("playlists/create", "unknown_track", {"name": "X", "track_ids": ["t0"]}),
        ("playlists/add_tracks", "unknown_track", {"playlist_id": mine, "track_ids": ["t0"]}),
        ("playlists/add_tracks", "read_only_playlist", {"playlist_id": ANIMALS, "track_ids": []}),
        ("playlists/rename", "read_only_playlist", {"playlist_id": MIX, "name": "X"}),
        ("playlists/delete", "read_only_playlist", {"playlist_id": AUDIOBOOK}),
        (
            "playlists/remove_tracks",
            "read_only_playlist",
            {"playlist_id": ANIMALS, "track_ids": []},
        ),
        ("playlists/reorder", "read_only_playlist", {"playlist_id": ANIMALS, "track_ids": []}),
        (
            "playlists/move_track",
            "read_only_playlist",
            {"source_playlist_id": ANIMALS, "target_playlist_id": mine, "track_id": ids["Dog"]},
        ),
        (
            "playlists/move_track",
            "track_not_in_playlist",
            {"source_playlist_id": yours, "target_playlist_id": mine, "track_id": ids["Dog"]},
        ),
        (
            "playlists/remove_tracks",
            "track_not_in_playlist",
            {"playlist_id": mine, "track_ids": [ids["Cat"]]},
        ),
        ("playlists/reorder", "not_a_permutation", {"playlist_id": mine, "track_ids": []}),
        ("playlists/create", "invalid_playlist_name", {"name": "   "}),
        ("playlists/rename", "invalid_playlist_name", {"playlist_id": mine, "name": " "}),
        ("playlists/create", "invalid_playlist_name", {"name": "x" * (MAX_NAME_LENGTH + 1)}),
        ("playlists/create", "invalid_playlist_name", {"name": ""}),
        (
            "playlists/rename",
            "invalid_playlist_name",
            {"playlist_id": mine, "name": "x" * (MAX_NAME_LENGTH + 1)},
        ),
    ]
    before = await admin.ok("playlists/list")
    for name, code, fields in cases:
        error = await admin.error(name, code, **fields)
        assert error["translation_key"] == code, (name, error)
        assert error["translation_domain"] == DOMAIN
        await admin.works()
    after = await admin.ok("playlists/list")
    assert after == before  # not one refused command changed anything


async def test_unloaded_box(hass: HomeAssistant, entry: MockConfigEntry, admin: Client) -> None:
    feed = await admin.feed()
    await admin.ok("player/play_playlist", playlist_id=AUDIOBOOK)
    assert await hass.config_entries.async_unload(entry.entry_id)
    for name, fields in (("player/play", {}), ("playlists/list", {}), ("subscribe", {})):
        error = await admin.error(name, "entry_not_loaded", **fields)
        assert error["translation_placeholders"] == {"name": "Music Box"}
    # The subscription ends with a `closed` event (no seq), then nothing more comes.
    await admin.ping()
    assert feed.events[-1] == {"type": "closed"}
    assert all("seq" in e for e in feed.events[:-1])
    received = len(feed.events)
    await asyncio.sleep(3 * POSITION_INTERVAL)  # the position stream would have sent more
    await admin.ping()
    assert len(feed.events) == received
    reply = await admin.reply(
        await admin.send_raw({"type": "unsubscribe_events", "subscription": feed.sub_id})
    )
    expect_error(reply, "not_found")  # HA's answer: the subscription is already gone
    # The connection serves the box again once it is back.
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await admin.works()
    feed = await admin.feed()
    assert feed.events[0]["type"] == "snapshot"


INVALID: list[tuple[str, dict[str, Any]]] = [
    # out of range
    ("player/seek", {"position_ms": -1}),
    ("player/seek", {"position_ms": MAX_POSITION_MS + 1}),
    ("player/seek", {"position_ms": 10**30}),  # parsed as a float by HA's JSON reader
    ("player/volume", {"volume": -0.01}),
    ("player/volume", {"volume": 1.01}),
    ("player/volume", {"volume": 1e308}),
    ("player/volume", {"volume": "NaN"}),  # JSON has no NaN (raw NaN: see below)
    ("player/volume", {"volume": "Infinity"}),
    ("playlists/add_tracks", {"playlist_id": "u1", "track_ids": [], "position": -1}),
    (
        "playlists/add_tracks",
        {"playlist_id": "u1", "track_ids": [], "position": MAX_TRACKS_PER_CALL + 1},
    ),
    (
        "playlists/move_track",
        {"source_playlist_id": "a", "target_playlist_id": "b", "track_id": "t", "position": -5},
    ),
    ("subscribe", {"since_seq": -1}),
    # wrong types
    ("player/seek", {"position_ms": 1.5}),
    ("player/seek", {"position_ms": "1000"}),
    ("player/volume", {"volume": "loud"}),
    ("player/volume", {"volume": "0.5"}),  # numbers only, no numeric strings
    ("player/volume", {"volume": True}),  # nor booleans (a bool is an int in Python)
    ("player/seek", {"position_ms": True}),
    ("playlists/add_tracks", {"playlist_id": "u1", "track_ids": [], "position": False}),
    ("subscribe", {"since_seq": True}),
    ("player/volume", {"volume": None}),
    ("player/volume", {"volume": [0.5]}),
    ("player/mute", {"muted": "true"}),
    ("player/mute", {"muted": 1}),
    ("player/shuffle", {"shuffle": None}),
    ("player/repeat", {"repeat": "sometimes"}),
    ("player/repeat", {"repeat": True}),
    ("player/play_playlist", {"playlist_id": 12}),
    ("player/play_playlist", {"playlist_id": ANIMALS, "start_track_id": ["t"]}),
    ("playlists/get", {"playlist_id": {"id": "x"}}),
    ("playlists/create", {"name": 5}),
    ("playlists/create", {"name": "X", "track_ids": "t1"}),
    ("playlists/create", {"name": "X", "track_ids": [1, 2]}),
    ("playlists/add_tracks", {"playlist_id": "u1", "track_ids": ["t"], "position": "0"}),
    ("playlists/reorder", {"playlist_id": "u1", "track_ids": None}),
    ("player/play", {"entry_id": 5}),
    ("player/play", {"client_op_id": 5}),
    ("subscribe", {"since_seq": "5"}),
    # missing fields
    ("player/seek", {}),
    ("player/volume", {}),
    ("player/mute", {}),
    ("player/shuffle", {}),
    ("player/repeat", {}),
    ("player/play_playlist", {}),
    ("playlists/get", {}),
    ("playlists/create", {}),
    ("playlists/rename", {"playlist_id": "u1"}),
    ("playlists/delete", {}),
    ("playlists/add_tracks", {"playlist_id": "u1"}),
    ("playlists/remove_tracks", {"track_ids": []}),
    ("playlists/reorder", {"playlist_id": "u1"}),
    ("playlists/move_track", {"source_playlist_id": "a", "target_playlist_id": "b"}),
    # too long, too many, empty
    ("playlists/create", {"name": "X", "track_ids": ["t"] * (MAX_TRACKS_PER_CALL + 1)}),
    ("playlists/add_tracks", {"playlist_id": "u1", "track_ids": ["t"] * (MAX_TRACKS_PER_CALL + 1)}),
    ("playlists/get", {"playlist_id": "p" * (MAX_REF_LENGTH + 1)}),  # an id or a name
    ("playlists/get", {"playlist_id": {"media_content_type": "playlist"}}),
    ("playlists/get", {"playlist_id": ""}),
    ("player/play", {"client_op_id": "o" * 65}),
    ("player/play", {"client_op_id": ""}),
    ("player/play", {"entry_id": ""}),
    # unknown keys
    ("player/play", {"volume": 0.5}),
    ("player/volume", {"volume": 0.5, "extra": True}),
    ("playlists/list", {"client_op_id": "op"}),  # reading commands take no op id
    ("playlists/get", {"playlist_id": ANIMALS, "client_op_id": "op"}),
    ("subscribe", {"client_op_id": "op"}),
    ("rescan", {"force": True}),
]


async def test_invalid_input_is_invalid_format_and_keeps_the_connection(
    admin: Client, watcher: Client, unhurried: None
) -> None:
    feed = await watcher.feed()
    before = await admin.ok("playlists/list")
    for name, fields in INVALID:
        error = await admin.error(name, "invalid_format", **fields)
        assert error["translation_key"] == "invalid_input", (name, fields, error)
        assert error["translation_domain"] == DOMAIN
        assert error["message"].startswith("The command is not valid:"), error
        await admin.works()
    # Nothing happened: no event at all, the playlists are the same.
    after = await admin.ok("playlists/list")
    assert after == before
    assert await feed.until(after["seq"]) == []


async def test_missing_entry_id_and_unknown_command(admin: Client) -> None:
    reply = await admin.reply(await admin.send_raw({"type": f"{DOMAIN}/player/play"}))
    error = expect_error(reply, "invalid_format")
    assert "entry_id" in error["message"]
    await admin.works()
    reply = await admin.reply(await admin.send_raw({"type": f"{DOMAIN}/player/dance"}))
    expect_error(reply, "unknown_command")  # HA's own answer
    await admin.works()


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_non_finite_numbers_in_raw_json_close_the_socket(
    admin: Client, watcher: Client, number: str
) -> None:
    """HA core's JSON reader rejects NaN/Infinity/1e999 and drops that connection.

    That is Home Assistant's behaviour for any invalid JSON, before a command sees the message
    (JSON has no non-finite numbers). Other connections are not affected.
    """
    await admin.works()
    await admin.ws.send_str(
        '{"id": 999, "type": "open_music_box/player/volume", '
        f'"entry_id": "{admin.entry_id}", "volume": {number}}}'
    )
    async with asyncio.timeout(TIMEOUT):
        msg = await admin.ws.receive()
    assert msg.type is WSMsgType.CLOSE
    assert admin.ws.closed
    await watcher.works()
