"""The WebSocket API: every command, the events and seq it causes, permissions, de-duplication,
errors that keep the connection open, and the rate limit. Real HA core, real libmpv (ao=null).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
import time
from typing import Any

from aiohttp import WSMsgType
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import MockHAClientWebSocket, WebSocketGenerator

from custom_components.open_music_box.api import websocket as ws_module
from custom_components.open_music_box.api.operations import MAX_POSITION_MS
from custom_components.open_music_box.api.validation import MAX_REF_LENGTH, MAX_TRACKS_PER_CALL
from custom_components.open_music_box.api.websocket import RATE_LIMIT_PER_SECOND
from custom_components.open_music_box.catalog import MAX_NAME_LENGTH
from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.events import (
    EVENT_TRACK_STARTED,
    OP_TTL_SECONDS,
    POSITION_INTERVAL,
    ops as ops_module,
)
from custom_components.open_music_box.library import folder_playlist_id, m3u_playlist_id

from .audio import write_wav

ANIMALS = folder_playlist_id("Animals")
AUDIOBOOK = folder_playlist_id("Audiobook")
MIX = m3u_playlist_id("Mix.m3u")
TIMEOUT = 20  # seconds; only a guard against a hang, never a measured figure

ADMIN_ONLY = (
    ("playlists/create", {"name": "X"}),
    ("playlists/rename", {"playlist_id": "u1", "name": "X"}),
    ("playlists/delete", {"playlist_id": "u1"}),
    ("playlists/add_tracks", {"playlist_id": "u1", "track_ids": []}),
    ("playlists/remove_tracks", {"playlist_id": "u1", "track_ids": []}),
    ("playlists/reorder", {"playlist_id": "u1", "track_ids": []}),
    (
        "playlists/move_track",
        {"source_playlist_id": "u1", "target_playlist_id": "u2", "track_id": "t1"},
    ),
    ("rescan", {}),
)


class Client:
    """One WebSocket connection: commands with their replies, events kept per subscription."""

    def __init__(self, ws: MockHAClientWebSocket, entry_id: str) -> None:
        self.ws = ws
        self.entry_id = entry_id
        self.events: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
        self.replies: dict[int, dict[str, Any]] = {}

    async def send(self, command: str, /, **fields: Any) -> int:
        """Send `open_music_box/<name>` for this box (unless entry_id is given); return its id."""
        msg: dict[str, Any] = {"type": f"{DOMAIN}/{command}", "entry_id": self.entry_id, **fields}
        return await self.send_raw(msg)

    async def send_raw(self, msg: dict[str, Any]) -> int:
        """Send a message as it is, with the next id."""
        await self.ws.send_json_auto_id(msg)
        return int(msg["id"])

    async def read(self) -> None:
        """Read one message: an event goes to its subscription, anything else is a reply."""
        async with asyncio.timeout(TIMEOUT):
            msg = await self.ws.receive_json()
        if msg["type"] == "event":
            self.events[msg["id"]].append(msg["event"])
        else:
            self.replies[msg["id"]] = msg

    async def reply(self, msg_id: int) -> dict[str, Any]:
        """Return the reply to one message (events read meanwhile are kept)."""
        while msg_id not in self.replies:
            await self.read()
        return self.replies.pop(msg_id)

    async def call(self, command: str, /, **fields: Any) -> dict[str, Any]:
        """Send a command and return its reply."""
        return await self.reply(await self.send(command, **fields))

    async def ok(self, command: str, /, **fields: Any) -> Any:
        """Send a command that must succeed; return its result."""
        reply = await self.call(command, **fields)
        assert reply["success"], reply
        return reply["result"]

    async def error(self, command: str, code: str, /, **fields: Any) -> dict[str, Any]:
        """Send a command that must fail with `code`; return the error."""
        return expect_error(await self.call(command, **fields), code)

    async def works(self) -> None:
        """Check that the connection still serves commands."""
        result = await self.ok("playlists/list")
        assert any(p["id"] == ANIMALS for p in result["playlists"])

    async def feed(self, since_seq: int | None = None) -> Feed:
        """Subscribe to the box's live state."""
        fields = {} if since_seq is None else {"since_seq": since_seq}
        msg_id = await self.send("subscribe", **fields)
        reply = await self.reply(msg_id)
        assert reply["success"], reply
        await self.ping()  # the snapshot or replay follows the result: read it all
        return Feed(self, msg_id, reply["result"]["seq"])

    async def ping(self) -> None:
        """Send HA's ping and read up to its pong: every message sent before is read then."""
        pong = await self.reply(await self.send_raw({"type": "ping"}))
        assert pong["type"] == "pong"


def expect_error(reply: dict[str, Any], code: str) -> dict[str, Any]:
    """Check that a reply is an error with `code`; return the error."""
    assert not reply["success"], reply
    assert reply["error"]["code"] == code, reply
    assert reply["error"]["message"], reply
    error: dict[str, Any] = reply["error"]
    return error


class Feed:
    """A subscription's events, read up to a seq and checked for gaps."""

    def __init__(self, client: Client, sub_id: int, seq: int) -> None:
        self.client = client
        self.sub_id = sub_id
        self.seen = seq  # the subscribe result's seq; the snapshot (or replay) ends there

    @property
    def events(self) -> list[dict[str, Any]]:
        """Return every event received so far (snapshot or replay first)."""
        return self.client.events[self.sub_id]

    async def until(self, seq: int) -> list[dict[str, Any]]:
        """Return the events after the last call up to `seq`, positions left out; no gap allowed."""
        while not self.events or self.events[-1]["seq"] < seq:
            await self.client.read()
        new = [e for e in self.events if self.seen < e["seq"] <= seq]
        assert [e["seq"] for e in new] == list(range(self.seen + 1, seq + 1))
        self.seen = seq
        return [e for e in new if e["type"] != "position"]

    async def of_type(self, seq: int, event_type: str) -> list[dict[str, Any]]:
        """Return the data of the events of one type up to `seq`."""
        return [e["data"] for e in await self.until(seq) if e["type"] == event_type]


class Clock:
    """time.monotonic for one of our modules, which a test can move forward or stop."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen: float | None = None

    def monotonic(self) -> float:
        """Return the (shifted or stopped) time."""
        return self.frozen if self.frozen is not None else time.monotonic() + self.offset


class Stepping:
    """time.monotonic that moves one second at every reading."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        """Return a time one second after the last one."""
        self.now += 1.0
        return self.now


@pytest.fixture
async def admin(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> Client:
    """An admin's connection."""
    return Client(await hass_ws_client(hass), entry.entry_id)


@pytest.fixture
async def watcher(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> Client:
    """A second admin connection, used to watch the events."""
    return Client(await hass_ws_client(hass), entry.entry_id)


@pytest.fixture
async def reader(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> Client:
    """A non-admin user's connection."""
    return Client(await hass_ws_client(hass, hass_read_only_access_token), entry.entry_id)


@pytest.fixture
async def ids(admin: Client) -> dict[str, str]:
    """The generated library's track ids by title."""
    found: dict[str, str] = {}
    for playlist_id in (ANIMALS, AUDIOBOOK):
        for track in (await admin.ok("playlists/get", playlist_id=playlist_id))["tracks"]:
            found[track["title"]] = track["track_id"]
    return found


@pytest.fixture
def hub_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The hub's clock (op de-duplication TTL), shifted by the test."""
    clock = Clock()
    monkeypatch.setattr(ops_module, "time", clock)
    return clock


@pytest.fixture
def unhurried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test send many commands: the rate limiter sees each one a second after the last."""
    monkeypatch.setattr(ws_module, "time", Stepping())


@pytest.fixture
def rate_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The rate limiter's clock, stopped so that a burst is surely within one second."""
    clock = Clock()
    clock.frozen = time.monotonic()
    monkeypatch.setattr(ws_module, "time", clock)
    return clock


# Player commands ----------------------------------------------------------------------------


async def test_player_commands_results_carry_the_seq_of_their_events(
    admin: Client, watcher: Client, ids: dict[str, str]
) -> None:
    feed = await watcher.feed()
    chapter1, chapter2 = ids["Chapter 1"], ids["Chapter 2"]
    queue: list[str] = []

    async def step(name: str, **fields: Any) -> dict[str, Any]:
        """Run a player command; return the last player state it published, with the queue."""
        nonlocal queue
        before = feed.seen
        result = await admin.ok(f"player/{name}", **fields)
        assert set(result) == {"seq"}
        assert result["seq"] > before
        events = await feed.until(result["seq"])
        queue = next((e["data"]["queue"] for e in reversed(events) if e["type"] == "queue"), queue)
        states = [e["data"] for e in events if e["type"] == "player"]
        assert states, f"{name} published no player event"
        return {**states[-1], "queue": queue}

    state = await step("play_playlist", playlist_id=AUDIOBOOK)
    assert state["state"] == "playing"
    assert state["track"]["track_id"] == chapter1
    assert state["track"]["title"] == "Chapter 1"
    assert state["track"]["duration_ms"] == 20000
    assert (state["queue"], state["queue_position"]) == ([chapter1, chapter2], 0)
    assert state["playlist_id"] == AUDIOBOOK
    assert (await step("pause"))["state"] == "paused"
    assert (await step("play"))["state"] == "playing"
    assert (await step("toggle"))["state"] == "paused"
    assert (await step("toggle"))["state"] == "playing"
    state = await step("next")
    assert (state["track"]["track_id"], state["queue_position"]) == (chapter2, 1)
    state = await step("previous")
    assert (state["track"]["track_id"], state["queue_position"]) == (chapter1, 0)
    assert (await step("seek", position_ms=5000))["position_ms"] == 5000
    assert (await step("volume", volume=0.25))["volume"] == 0.25
    assert (await step("volume", volume=0))["volume"] == 0
    assert (await step("volume", volume=1))["volume"] == 1
    assert (await step("mute", muted=True))["muted"] is True
    assert (await step("mute", muted=False))["muted"] is False
    state = await step("shuffle", shuffle=True)
    assert state["shuffle"] is True
    assert state["track"]["track_id"] == chapter1  # the current track keeps playing
    assert sorted(state["queue"]) == sorted([chapter1, chapter2])
    assert (await step("shuffle", shuffle=False))["shuffle"] is False
    for mode in ("all", "one", "off"):
        assert (await step("repeat", repeat=mode))["repeat"] == mode
    assert (await step("stop"))["state"] == "idle"

    # A command that changes nothing causes no event: its result carries the current seq.
    assert await admin.ok("player/pause") == {"seq": feed.seen}

    # Play from idle starts the queue again.
    assert (await step("play"))["state"] == "playing"


async def test_play_playlist_start_track_and_errors(
    admin: Client, watcher: Client, ids: dict[str, str]
) -> None:
    feed = await watcher.feed()
    animals = [ids["Dog"], ids["Cat"], ids["Cow"]]

    result = await admin.ok("player/play_playlist", playlist_id=ANIMALS, start_track_id=ids["Cow"])
    events = await feed.until(result["seq"])
    state = [e["data"] for e in events if e["type"] == "player"][-1]
    assert (state["state"], state["track"]["track_id"]) == ("playing", ids["Cow"])
    assert ([e["data"] for e in events if e["type"] == "queue"], state["queue_position"]) == (
        [{"queue": animals}],
        2,
    )

    # With shuffle on, the chosen track still plays first.
    await admin.ok("player/shuffle", shuffle=True)
    result = await admin.ok("player/play_playlist", playlist_id=ANIMALS, start_track_id=ids["Cat"])
    events = await feed.until(result["seq"])
    state = [e["data"] for e in events if e["type"] == "player"][-1]
    assert (state["track"]["track_id"], state["queue_position"]) == (ids["Cat"], 0)
    shuffled = [e["data"]["queue"] for e in events if e["type"] == "queue"][-1]
    assert (sorted(shuffled), shuffled[0]) == (sorted(animals), ids["Cat"])
    await feed.until((await admin.ok("player/stop"))["seq"])

    error = await admin.error(
        "player/play_playlist",
        "track_not_in_playlist",
        playlist_id=ANIMALS,
        start_track_id=ids["Chapter 1"],
    )
    assert error["translation_key"] == "track_not_in_playlist"
    assert error["translation_domain"] == DOMAIN
    assert error["translation_placeholders"] == {"track_id": ids["Chapter 1"]}
    assert ids["Chapter 1"] in error["message"]
    await admin.works()

    empty = (await admin.ok("playlists/create", name="Empty"))["id"]
    error = await admin.error("player/play_playlist", "empty_playlist", playlist_id=empty)
    assert error["translation_placeholders"] == {"media_id": empty}
    await admin.works()
    await admin.error("player/play_playlist", "unknown_playlist", playlist_id="nope")
    await admin.works()

    # None of the refused commands touched the player.
    seq = (await admin.ok("playlists/list"))["seq"]
    assert [e["type"] for e in await feed.until(seq)] == ["playlists"]  # the "Empty" playlist
    assert (await admin.ok("player/pause"))["seq"] == seq  # still idle: nothing to pause


# Playlist commands ----------------------------------------------------------------------------


async def test_list_and_get(admin: Client, watcher: Client, ids: dict[str, str]) -> None:
    feed = await watcher.feed()
    snapshot = feed.events[0]
    listed = await admin.ok("playlists/list")
    assert snapshot["type"] == "snapshot"
    assert snapshot["data"]["playlists"] == listed["playlists"]
    assert listed["seq"] == feed.seen
    assert [p["name"] for p in listed["playlists"]] == ["Animals", "Audiobook", "Mix"]
    assert listed["playlists"][2] == {
        "id": MIX,
        "name": "Mix",
        "kind": "m3u",
        "read_only": True,
        "track_count": 2,
        "mode": "album",
    }
    animals = await admin.ok("playlists/get", playlist_id=ANIMALS)
    assert animals == {
        "id": ANIMALS,
        "name": "Animals",
        "kind": "folder",
        "read_only": True,
        "track_count": 3,
        "mode": "album",
        "playlist_seq": 0,
        "track_ids": [ids["Dog"], ids["Cat"], ids["Cow"]],
        "tracks": animals["tracks"],
        "seq": feed.seen,
    }
    assert [t["title"] for t in animals["tracks"]] == ["Dog", "Cat", "Cow"]
    assert animals["tracks"][0] == {
        "track_id": ids["Dog"],
        "title": "Dog",
        "artist": "Kids",
        "album": "Animals",
        "duration_ms": 1000,
    }
    mix = await admin.ok("playlists/get", playlist_id=MIX)
    assert mix["track_ids"] == [ids["Cow"], ids["Chapter 1"]]


async def test_create_rename_delete_and_rescan(
    admin: Client, watcher: Client, ids: dict[str, str], library: Path
) -> None:
    feed = await watcher.feed()
    # create → a `playlists` event carrying the new index
    created = await admin.ok("playlists/create", name="  Mine  ", track_ids=[ids["Dog"]])
    mine = created["id"]
    assert {k: v for k, v in created.items() if k != "id"} == {
        "name": "Mine",  # trimmed
        "kind": "user",
        "read_only": False,
        "track_count": 1,
        "mode": "album",
        "seq": feed.seen + 1,
    }
    (index,) = await feed.of_type(created["seq"], "playlists")
    assert index["playlists"] == (await admin.ok("playlists/list"))["playlists"]
    assert {p["id"]: p["name"] for p in index["playlists"]}[mine] == "Mine"
    longest = await admin.ok("playlists/create", name="x" * MAX_NAME_LENGTH)
    assert longest["name"] == "x" * MAX_NAME_LENGTH
    assert len(await feed.of_type(longest["seq"], "playlists")) == 1

    # rename / delete → `playlists` events
    result = await admin.ok("playlists/rename", playlist_id=mine, name="Renamed")
    assert set(result) == {"seq"}
    (index,) = await feed.of_type(result["seq"], "playlists")
    assert {p["id"]: p["name"] for p in index["playlists"]}[mine] == "Renamed"
    assert (await admin.ok("playlists/get", playlist_id=mine))["name"] == "Renamed"
    result = await admin.ok("playlists/delete", playlist_id=mine)
    (index,) = await feed.of_type(result["seq"], "playlists")
    assert mine not in {p["id"] for p in index["playlists"]}
    await admin.error("playlists/get", "unknown_playlist", playlist_id=mine)

    # rescan → a `library` event with the counts, then the index
    write_wav(library / "Animals" / "04 Owl.wav")
    result = await admin.ok("rescan")
    assert set(result) == {"seq"}
    events = [e for e in await feed.until(result["seq"]) if e["type"] != "player"]
    assert [e["type"] for e in events] == ["library", "playlists"]
    assert events[0]["data"] == {"available": True, "tracks": 6, "playlists": 4, "skipped": 0}
    assert events[1]["seq"] == result["seq"]
    assert (await admin.ok("playlists/get", playlist_id=ANIMALS))["track_count"] == 4


async def test_track_edits_publish_playlist_events(
    admin: Client, watcher: Client, ids: dict[str, str]
) -> None:
    mine = (await admin.ok("playlists/create", name="Mine", track_ids=[ids["Dog"]]))["id"]
    other = (await admin.ok("playlists/create", name="Other"))["id"]
    feed = await watcher.feed()

    async def edit(name: str, **fields: Any) -> tuple[int, list[str]]:
        """Run a playlist edit; return the playlist_seq and track_ids of its one event."""
        result = await admin.ok(f"playlists/{name}", **fields)
        assert set(result) == {"seq"}
        (event,) = await feed.until(result["seq"])
        assert (event["type"], event["seq"], event["data"]["id"]) == (
            "playlist",
            result["seq"],
            mine,
        )
        assert event["data"]["track_count"] == len(event["data"]["track_ids"])
        return event["playlist_seq"], event["data"]["track_ids"]

    dog, cat, cow, chapter = ids["Dog"], ids["Cat"], ids["Cow"], ids["Chapter 1"]
    assert await edit("add_tracks", playlist_id=mine, track_ids=[cow, cat]) == (1, [dog, cow, cat])
    assert await edit("add_tracks", playlist_id=mine, track_ids=[chapter], position=0) == (
        2,
        [chapter, dog, cow, cat],
    )
    assert await edit("add_tracks", playlist_id=mine, track_ids=[chapter], position=99) == (
        3,
        [chapter, dog, cow, cat, chapter],
    )
    assert await edit("remove_tracks", playlist_id=mine, track_ids=[chapter]) == (
        4,
        [dog, cow, cat],
    )
    assert await edit("reorder", playlist_id=mine, track_ids=[cat, cow, dog]) == (
        5,
        [cat, cow, dog],
    )
    got = await admin.ok("playlists/get", playlist_id=mine)
    assert (got["playlist_seq"], got["track_ids"]) == (5, [cat, cow, dog])
    assert [t["title"] for t in got["tracks"]] == ["Cat", "Cow", "Dog"]

    # move_track changes two playlists: one `playlist` event each, source first.
    result = await admin.ok(
        "playlists/move_track",
        source_playlist_id=mine,
        target_playlist_id=other,
        track_id=cow,
        position=0,
    )
    moved = await feed.until(result["seq"])
    assert [(e["data"]["id"], e["playlist_seq"], e["data"]["track_ids"]) for e in moved] == [
        (mine, 6, [cat, dog]),
        (other, 1, [cow]),
    ]
    assert moved[-1]["seq"] == result["seq"]
    result = await admin.ok(
        "playlists/move_track", source_playlist_id=mine, target_playlist_id=other, track_id=dog
    )
    moved = await feed.until(result["seq"])
    assert moved[-1]["data"]["track_ids"] == [cow, dog]  # no position: the end


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


# Subscribe ----------------------------------------------------------------------------


async def test_subscribe_snapshot_replay_and_unsubscribe(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    admin: Client,
    hass_ws_client: WebSocketGenerator,
) -> None:
    hub = entry.runtime_data.events
    first = await admin.feed()
    (snapshot,) = first.events
    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] == first.seen == hub.seq
    assert set(snapshot) == {"seq", "event_id", "type", "server_time", "data"}
    assert snapshot["data"]["player"]["state"] == "idle"
    since = first.seen
    for level in (0.1, 0.2, 0.3):
        await admin.ok("player/volume", volume=level)
    seq = (await admin.ok("playlists/create", name="New"))["seq"]
    live = await first.until(seq)

    # A second connection resumes from `since`: exactly the missed events, then live ones.
    other = Client(await hass_ws_client(hass), entry.entry_id)
    resumed = await other.feed(since_seq=since)
    assert resumed.seen == seq
    assert resumed.events == live
    assert [e["data"]["volume"] for e in resumed.events[:3]] == [0.1, 0.2, 0.3]
    # From the newest seq: nothing to replay. From the future (an older server): a snapshot.
    up_to_date = await other.feed(since_seq=seq)
    assert up_to_date.events == []
    future = await other.feed(since_seq=seq + 1)
    assert [e["type"] for e in future.events] == ["snapshot"]
    assert hub.subscriber_count == 4

    seq = (await admin.ok("player/volume", volume=0.5))["seq"]
    for feed in (resumed, up_to_date, future):
        assert [e["data"]["volume"] for e in await feed.until(seq)] == [0.5]

    # HA's unsubscribe_events ends one subscription; closing a socket ends all of its own.
    reply = await other.reply(
        await other.send_raw({"type": "unsubscribe_events", "subscription": resumed.sub_id})
    )
    assert reply["success"], reply
    assert hub.subscriber_count == 3
    await admin.ok("player/volume", volume=0.6)
    await other.ping()
    assert [e["seq"] for e in resumed.events][-1] == seq  # nothing after the unsubscribe
    await other.ws.close()
    for _ in range(100):
        if hub.subscriber_count == 1:
            break
        await asyncio.sleep(0.01)
    assert hub.subscriber_count == 1
