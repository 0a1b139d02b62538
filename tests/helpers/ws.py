"""WebSocket clients of our commands, and the fixtures that connect them."""

from __future__ import annotations

import asyncio
from collections import defaultdict
import time
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MockHAClientWebSocket, WebSocketGenerator

from custom_components.open_music_box.api import websocket as ws_module
from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.events import ops as hub_module
from custom_components.open_music_box.library import folder_playlist_id, m3u_playlist_id

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
    monkeypatch.setattr(hub_module, "time", clock)
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
