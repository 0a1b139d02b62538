"""The live-state hub seen from a WebSocket client: envelopes, clocks, sequence numbers."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
import uuid

from homeassistant.components.media_player import (
    ATTR_MEDIA_REPEAT,
    ATTR_MEDIA_SHUFFLE,
    ATTR_MEDIA_TITLE,
    ATTR_MEDIA_VOLUME_LEVEL,
    DOMAIN as MP_DOMAIN,
)
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_VOLUME_SET
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    MockHAClientWebSocket,
    WebSocketGenerator,
)

from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.events import EventLog, LiveState

from ..conftest import ENTITY_ID

TIMEOUT = 15  # seconds: a bound for anything mpv or the socket has to do, never an expectation


ENVELOPE_KEYS = {"seq", "event_id", "type", "server_time", "data"}


# Both clocks are read a few microseconds apart in the hub: allow that much, no more.
CLOCK_READ_SLACK = timedelta(milliseconds=1)


class Conn:
    """One WebSocket connection: commands and any number of subscriptions on it."""

    def __init__(self, ws: MockHAClientWebSocket, entry: MockConfigEntry) -> None:
        self.ws = ws
        self.entry_id = entry.entry_id
        self._events: defaultdict[int, deque[dict[str, Any]]] = defaultdict(deque)
        self._results: dict[int, dict[str, Any]] = {}

    async def _read(self) -> None:
        msg = await self.ws.receive_json(timeout=TIMEOUT)
        if msg["type"] == "event":
            self._events[msg["id"]].append(msg["event"])
        else:
            self._results[msg["id"]] = msg

    async def send(self, msg_type: str, /, **data: Any) -> int:
        """Send a message; return its id."""
        msg = {"type": msg_type, **data}
        await self.ws.send_json_auto_id(msg)
        return int(msg["id"])

    async def result(self, msg_id: int) -> dict[str, Any]:
        """Return the result message of a command (events read meanwhile are kept)."""
        while msg_id not in self._results:
            await self._read()
        return self._results.pop(msg_id)

    async def command(self, name: str, /, **data: Any) -> Any:
        """Run one of our commands on the box; return its result."""
        reply = await self.result(
            await self.send(f"{DOMAIN}/{name}", entry_id=self.entry_id, **data)
        )
        assert reply["success"], reply
        return reply["result"]

    async def subscribe(self, since_seq: int | None = None) -> int:
        """Subscribe to the box; return the subscription id."""
        extra = {} if since_seq is None else {"since_seq": since_seq}
        msg_id = await self.send(f"{DOMAIN}/subscribe", entry_id=self.entry_id, **extra)
        reply = await self.result(msg_id)
        assert reply["success"], reply
        return msg_id

    async def event(self, sub: int) -> dict[str, Any]:
        """Return the next event of a subscription."""
        while not self._events[sub]:
            await self._read()
        return self._events[sub].popleft()

    async def until(
        self, sub: int, predicate: Callable[[dict[str, Any]], bool]
    ) -> list[dict[str, Any]]:
        """Return the events up to and including the first one matching `predicate`."""
        seen: list[dict[str, Any]] = []
        while True:
            seen.append(await self.event(sub))
            if predicate(seen[-1]):
                return seen

    async def through(self, sub: int, seq: int) -> list[dict[str, Any]]:
        """Return the events up to and including `seq`."""
        return await self.until(sub, lambda e: e["seq"] >= seq)


async def connect(hass_ws_client: WebSocketGenerator, entry: MockConfigEntry) -> Conn:
    """Open an authenticated (admin) connection."""
    return Conn(await hass_ws_client(), entry)


def hub_of(entry: MockConfigEntry) -> EventLog:
    """Return the event log of a loaded box."""
    log: EventLog = entry.runtime_data.events
    return log


def live_of(entry: MockConfigEntry) -> LiveState:
    """Return the live state of a loaded box (it runs the position stream)."""
    live: LiveState = entry.runtime_data.live
    return live


def check_envelope(envelope: dict[str, Any]) -> None:
    """Every event has the same shape; playlist events also carry their playlist_seq."""
    keys = ENVELOPE_KEYS | ({"playlist_seq"} if envelope["type"] == "playlist" else set())
    assert set(envelope) == keys, envelope
    assert isinstance(envelope["seq"], int)
    assert uuid.UUID(hex=envelope["event_id"]).hex == envelope["event_id"]
    assert datetime.fromisoformat(envelope["server_time"]).tzinfo is not None
    assert isinstance(envelope["data"], dict)


def server_time(envelope: dict[str, Any]) -> datetime:
    """Return when the hub stamped an event."""
    return datetime.fromisoformat(envelope["server_time"])


def consecutive(events: list[dict[str, Any]], after: int) -> None:
    """The events follow `after` with no gap and no duplicate."""
    assert [e["seq"] for e in events] == list(range(after + 1, after + 1 + len(events)))


async def set_volume(hass: HomeAssistant, level: float) -> None:
    """Set the entity's volume through Home Assistant's service."""
    await hass.services.async_call(
        MP_DOMAIN,
        SERVICE_VOLUME_SET,
        {ATTR_ENTITY_ID: ENTITY_ID, ATTR_MEDIA_VOLUME_LEVEL: level},
        blocking=True,
    )


async def volume_burst(hass: HomeAssistant, count: int) -> None:
    """Cause `count` player events (alternating volumes)."""
    for i in range(count):
        await set_volume(hass, 0.3 if i % 2 else 0.4)


def assert_matches_entity(hass: HomeAssistant, entry: MockConfigEntry, snapshot: Any) -> None:
    """A snapshot shows what the entity shows."""
    assert snapshot["type"] == "snapshot"
    player = snapshot["data"]["player"]
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert player["state"] == state.state
    title = state.attributes.get(ATTR_MEDIA_TITLE)
    assert (player["track"] or {}).get("title") == title
    assert player["volume"] == pytest.approx(state.attributes[ATTR_MEDIA_VOLUME_LEVEL])
    assert player["shuffle"] == state.attributes[ATTR_MEDIA_SHUFFLE]
    assert player["repeat"] == state.attributes[ATTR_MEDIA_REPEAT]
    catalog = entry.runtime_data.catalog
    assert [p["id"] for p in snapshot["data"]["playlists"]] == [p.id for p in catalog.playlists()]
    assert [(p["name"], p["track_count"]) for p in snapshot["data"]["playlists"]] == [
        (p.name, len(p.track_ids)) for p in catalog.playlists()
    ]


def stored_reservation(hass_storage: dict[str, Any], entry: MockConfigEntry) -> int:
    """Return the seq reservation as written to storage."""
    return int(hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]["hub"]["seq_reserved"])


async def reload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the box and set it up again."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def positions(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the position events among `events`."""
    return [e for e in events if e["type"] == "position"]
