"""The live-state hub: sequenced envelopes, replay, positions, bus transitions, seq storage.

Real Home Assistant core, real WebSocket clients (`hass_ws_client`) and a real libmpv box
(null audio output) on a generated library.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable
import copy
from datetime import datetime, timedelta
import itertools
from pathlib import Path
from typing import Any
import uuid

from homeassistant.components.media_player import (
    ATTR_MEDIA_REPEAT,
    ATTR_MEDIA_SHUFFLE,
    ATTR_MEDIA_TITLE,
    ATTR_MEDIA_VOLUME_LEVEL,
    DOMAIN as MP_DOMAIN,
    RepeatMode,
)
from homeassistant.components.websocket_api.const import MAX_PENDING_MSG
from homeassistant.const import ATTR_ENTITY_ID, MATCH_ALL, SERVICE_VOLUME_SET
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.loader import DATA_CUSTOM_COMPONENTS
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_test_home_assistant
from pytest_homeassistant_custom_component.typing import (
    MockHAClientWebSocket,
    WebSocketGenerator,
)

from custom_components.open_music_box.catalog import CatalogChange, ChangeKind
from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.events import (
    EVENT_PLAYBACK_STATE,
    EVENT_PLAYLIST_FINISHED,
    EVENT_TRACK_STARTED,
    POSITION_MIN_GAP,
    REPLAY_BUFFER_SIZE,
    EventLog,
    LiveState,
    OperationCache,
)
from custom_components.open_music_box.events.log import SEQ_BLOCK

from .conftest import ENTITY_ID, box_entry

TIMEOUT = 15  # seconds: a bound for anything mpv or the socket has to do, never an expectation
ENVELOPE_KEYS = {"seq", "event_id", "type", "server_time", "data"}
# Both clocks are read a few microseconds apart in the hub: allow that much, no more.
CLOCK_READ_SLACK = timedelta(milliseconds=1)


# Helpers -----------------------------------------------------------------


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


def playlist_id(entry: MockConfigEntry, name: str) -> str:
    """Return the id of a playlist by name."""
    return next(p.id for p in entry.runtime_data.catalog.playlists() if p.name == name)


def track_id(entry: MockConfigEntry, title: str) -> str:
    """Return the id of a library track by title."""
    return next(t.id for t in entry.runtime_data.catalog.scan.tracks.values() if t.title == title)


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


async def wait_for(predicate: Callable[[], bool]) -> None:
    """Wait (bounded) until the server side has done what the test waits for."""
    async with asyncio.timeout(TIMEOUT):
        while not predicate():  # noqa: ASYNC110 - the server handles a closed socket in its own time
            await asyncio.sleep(0.01)


async def reload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the box and set it up again."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


# Envelopes -----------------------------------------------------------------


async def test_envelope_on_every_event_type(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Snapshot, queue, player, position, playlists, playlist and library events: one envelope."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    snapshot = await conn.event(sub)
    check_envelope(snapshot)
    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] == hub_of(entry).seq
    seen: list[dict[str, Any]] = []

    async def run(command: str, /, **data: Any) -> Any:
        result = await conn.command(command, **data)
        events = await conn.through(sub, result["seq"])
        if command.startswith("player/") and events[-1]["type"] != "position":
            # Its position may wait for the 150 ms gap after the previous one.
            events += await conn.until(sub, lambda e: e["type"] == "position")
        seen.extend(events)
        return result

    await run("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    await run("player/pause")
    created = await run("playlists/create", name="Fav")
    cow, dog = track_id(entry, "Cow"), track_id(entry, "Dog")
    await run("playlists/add_tracks", playlist_id=created["id"], track_ids=[cow])
    await run("playlists/add_tracks", playlist_id=created["id"], track_ids=[dog], position=0)
    await run("rescan")

    for envelope in seen:
        check_envelope(envelope)
    consecutive(seen, snapshot["seq"])
    assert len({e["event_id"] for e in [snapshot, *seen]}) == len(seen) + 1
    assert [e["type"] for e in seen] == [
        "queue",  # play_playlist
        "player",
        "position",
        "player",  # pause
        "position",
        "playlists",  # create
        "playlist",  # add_tracks
        "playlist",
        "library",  # rescan
        "playlists",
    ]
    times = [server_time(e) for e in seen]
    assert times == sorted(times)

    queue, playing, _, paused, position, index, first, second, library, _ = seen
    chapters = [track_id(entry, "Chapter 1"), track_id(entry, "Chapter 2")]
    assert queue["data"] == {"queue": chapters}
    assert "queue" not in playing["data"]
    assert playing["data"]["queue_position"] == 0
    assert playing["data"]["state"] == "playing"
    assert playing["data"]["track"]["title"] == "Chapter 1"
    assert playing["data"]["playlist_id"] == playlist_id(entry, "Audiobook")
    assert paused["data"]["state"] == "paused"
    assert position["data"]["playing"] is False
    assert position["data"]["track_id"] == playing["data"]["track"]["track_id"]
    assert position["data"]["duration_ms"] == 20000
    assert created["id"] in [p["id"] for p in index["data"]["playlists"]]
    assert first["data"]["id"] == created["id"]
    assert first["data"]["track_ids"] == [cow]
    assert second["data"]["track_ids"] == [dog, cow]
    # playlist_seq counts the changes of that one playlist
    assert (first["playlist_seq"], second["playlist_seq"]) == (1, 2)
    assert library["data"] == {"available": True, "tracks": 5, "playlists": 4, "skipped": 0}


async def test_queue_event_only_when_the_queue_changes(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Player events carry the state only; the queue goes out when it changes, and is replayed."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    start = (await conn.event(sub))["seq"]
    dog, cat, cow = (track_id(entry, title) for title in ("Dog", "Cat", "Cow"))
    await conn.command("player/play_playlist", playlist_id=playlist_id(entry, "Animals"))
    await conn.command("player/pause")
    for volume in (0.2, 0.3, 0.4):
        await conn.command("player/volume", volume=volume)
    await conn.command("player/next")
    await conn.command("player/shuffle", shuffle=True)
    done = await conn.command("player/shuffle", shuffle=False)
    events = await conn.through(sub, done["seq"])
    queues = [e["data"]["queue"] for e in events if e["type"] == "queue"]
    # Play, shuffle on (new order, same tracks), shuffle off: not the volume steps, not next.
    assert len(queues) == 3
    assert queues[0] == queues[2] == [dog, cat, cow]
    assert sorted(queues[1]) == sorted(queues[0])
    players = [e["data"] for e in events if e["type"] == "player"]
    assert len(players) >= 6
    assert all("queue" not in state for state in players)

    # A client that missed it all gets the queue event replayed, exactly once, in order.
    late = await connect(hass_ws_client, entry)
    late_sub = await late.subscribe(since_seq=start)
    replayed = await late.through(late_sub, done["seq"])
    assert replayed == events


# Subscribing and replay -----------------------------------------------------------------


async def test_snapshot_first_matches_the_entity(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Without since_seq a subscriber gets the full state first: what the entity shows."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    idle = await conn.event(sub)
    assert_matches_entity(hass, entry, idle)
    assert idle["data"]["player"]["track"] is None

    await conn.command("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    await conn.command("player/volume", volume=0.3)
    await conn.command("player/shuffle", shuffle=True)
    await conn.command("player/repeat", repeat="all")
    await conn.command("player/pause")
    await conn.command("playlists/create", name="Bedtime", track_ids=[track_id(entry, "Dog")])

    other = await connect(hass_ws_client, entry)
    other_sub = await other.subscribe()
    snapshot = await other.event(other_sub)
    check_envelope(snapshot)
    assert snapshot["seq"] == hub_of(entry).seq
    assert_matches_entity(hass, entry, snapshot)
    player = snapshot["data"]["player"]
    assert (player["state"], player["track"]["title"]) == ("paused", "Chapter 1")
    assert (player["volume"], player["shuffle"], player["repeat"]) == (0.3, True, "all")
    assert "Bedtime" in [p["name"] for p in snapshot["data"]["playlists"]]
    chapters = [track_id(entry, "Chapter 1"), track_id(entry, "Chapter 2")]
    assert sorted(snapshot["data"]["queue"]) == sorted(chapters)  # the snapshot has the queue
    assert snapshot["data"]["queue"][player["queue_position"]] == player["track"]["track_id"]
    # The subscriber that was there all along saw the same seq as its last event.
    assert (await conn.through(sub, snapshot["seq"]))[-1]["seq"] == snapshot["seq"]


async def test_replay_after_reconnect(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A client that comes back with since_seq gets exactly what it missed, then live events."""
    witness = await connect(hass_ws_client, entry)  # subscribed all along: the reference
    witness_sub = await witness.subscribe()
    await witness.event(witness_sub)  # snapshot
    control = await connect(hass_ws_client, entry)

    client = await connect(hass_ws_client, entry)
    sub = await client.subscribe()
    first = await client.event(sub)
    result = await control.command("player/volume", volume=0.2)
    before = await client.through(sub, result["seq"])
    consecutive(before, first["seq"])
    last = before[-1]["seq"]
    await client.ws.close()
    await wait_for(lambda: hub_of(entry).subscriber_count == 1)  # the witness

    # Missed while disconnected: player commands and playlist edits.
    book = playlist_id(entry, "Audiobook")
    await control.command("player/play_playlist", playlist_id=book)
    await control.command("player/seek", position_ms=5000)
    await control.command("player/next")
    created = await control.command("playlists/create", name="Fav")
    await control.command(
        "playlists/add_tracks", playlist_id=created["id"], track_ids=[track_id(entry, "Cow")]
    )
    await control.command("playlists/rename", playlist_id=created["id"], name="Best")
    done = await control.command("player/pause")  # no position stream past this point
    missed = await witness.through(witness_sub, done["seq"])
    missed = [e for e in missed if e["seq"] > last]
    assert {"player", "position", "playlists", "playlist"} <= {e["type"] for e in missed}

    back = await connect(hass_ws_client, entry)
    back_sub = await back.subscribe(since_seq=last)
    replayed = [await back.event(back_sub) for _ in missed]
    assert replayed == missed  # same envelopes: same seq, event_id, time and data
    consecutive(replayed, last)

    live = await control.command("player/volume", volume=0.35)
    assert live["seq"] == done["seq"] + 1
    assert await back.event(back_sub) == await witness.event(witness_sub)
    assert hub_of(entry).seq == live["seq"]


async def test_too_old_since_seq_gets_a_snapshot(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Past the replay buffer a client cannot catch up event by event: it gets a snapshot."""
    conn = await connect(hass_ws_client, entry)
    await conn.command("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    await conn.command("player/pause")
    old = hub_of(entry).seq

    await volume_burst(hass, REPLAY_BUFFER_SIZE + 50)
    hub = hub_of(entry)
    assert len(hub.buffer) == REPLAY_BUFFER_SIZE
    oldest = hub.buffer[0]["seq"]
    assert oldest > old + 1

    late = await connect(hass_ws_client, entry)
    sub = await late.subscribe(since_seq=old)
    snapshot = await late.event(sub)
    assert snapshot["seq"] == hub.seq
    assert_matches_entity(hass, entry, snapshot)
    assert snapshot["data"]["player"]["state"] == "paused"

    # One event too old is enough for a snapshot; the oldest kept one is still replayed.
    edge = await connect(hass_ws_client, entry)
    edge_sub = await edge.subscribe(since_seq=oldest - 2)
    assert (await edge.event(edge_sub))["type"] == "snapshot"
    full = await connect(hass_ws_client, entry)
    full_sub = await full.subscribe(since_seq=oldest - 1)
    replayed = [await full.event(full_sub) for _ in range(REPLAY_BUFFER_SIZE)]
    consecutive(replayed, oldest - 1)
    assert replayed[-1]["seq"] == hub.seq

    # Then every subscriber follows live.
    result = await conn.command("player/volume", volume=0.1)
    for client, client_sub in ((late, sub), (edge, edge_sub), (full, full_sub)):
        event = await client.event(client_sub)
        assert (event["seq"], event["type"]) == (result["seq"], "player")
        assert event["data"]["volume"] == 0.1


async def test_since_seq_in_the_future_gets_a_snapshot(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A since_seq the hub never issued (another box, a wiped install) gets a snapshot."""
    conn = await connect(hass_ws_client, entry)
    await conn.command("player/volume", volume=0.2)
    sub = await conn.subscribe(since_seq=hub_of(entry).seq + 1)
    snapshot = await conn.event(sub)
    assert snapshot["seq"] == hub_of(entry).seq
    assert_matches_entity(hass, entry, snapshot)


async def test_since_seq_current_replays_nothing(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A client that missed nothing gets nothing but the live events that follow."""
    conn = await connect(hass_ws_client, entry)
    await conn.command("player/volume", volume=0.2)
    current = hub_of(entry).seq
    sub = await conn.subscribe(since_seq=current)
    result = await conn.command("player/volume", volume=0.25)
    event = await conn.event(sub)  # the first thing the subscription delivers
    assert (event["seq"], event["type"]) == (current + 1, "player")
    assert result["seq"] == current + 1


async def test_since_seq_after_a_restart(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """After a restart the buffer is empty: since_seq equal to the seq replays nothing, older
    ones (events of the previous run) get a snapshot."""
    await reload(hass, entry)
    hub = hub_of(entry)
    assert not hub.buffer
    assert hub.seq > 0
    conn = await connect(hass_ws_client, entry)
    current = await conn.subscribe(since_seq=hub.seq)
    older = await conn.subscribe(since_seq=hub.seq - 1)
    assert (await conn.event(older))["type"] == "snapshot"
    result = await conn.command("player/volume", volume=0.2)
    assert (await conn.event(current))["seq"] == result["seq"] == hub.seq
    assert (await conn.event(older))["seq"] == result["seq"]


# Position stream -----------------------------------------------------------------


def positions(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the position events among `events`."""
    return [e for e in events if e["type"] == "position"]


async def test_positions_while_playing(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """While playing, a subscriber gets a steady stream of growing positions, min gap apart."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)  # snapshot
    start = await conn.command("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    caused = await conn.through(sub, start["seq"])
    assert [e["type"] for e in caused] == ["queue", "player", "position"]  # one at play
    assert caused[-1]["data"]["playing"] is True

    stream = [await conn.event(sub) for _ in range(8)]  # about 1.5 s of playback
    assert {e["type"] for e in stream} == {"position"}
    consecutive(stream, start["seq"])
    track = caused[1]["data"]["track"]
    for event in stream:
        assert event["data"]["playing"] is True
        assert event["data"]["track_id"] == track["track_id"]
        assert event["data"]["duration_ms"] == track["duration_ms"] == 20000
    values = [e["data"]["position_ms"] for e in [caused[-1], *stream]]
    assert values == sorted(values)
    assert values[-1] > values[0]
    times = [server_time(e) for e in [caused[-1], *stream]]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= timedelta(seconds=POSITION_MIN_GAP) - CLOCK_READ_SLACK


async def test_positions_at_play_pause_seek(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Every play, pause and seek sends a position (at once, or after the 150 ms gap)."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)

    async def caused_by(command: str, /, **data: Any) -> dict[str, Any]:
        result = await conn.command(command, **data)
        events = await conn.through(sub, result["seq"])
        assert events[-1]["type"] in ("player", "position")
        if events[-1]["type"] == "player":  # its position waits for the 150 ms gap
            events.append(await conn.event(sub))
        assert events[-2]["type"] == "player"
        assert events[-1]["type"] == "position"
        return events[-1]["data"]

    playing = await caused_by("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    assert playing["playing"] is True
    paused = await caused_by("player/pause")
    assert paused["playing"] is False
    assert (
        live_of(entry).positions.timer is None
    )  # the stream really stopped (a cancelled timer never runs)
    seeked = await caused_by("player/seek", position_ms=7000)
    assert (seeked["position_ms"], seeked["playing"]) == (7000, False)

    await asyncio.sleep(4 * POSITION_MIN_GAP)  # ticks would have come by now
    marker = await conn.command("player/volume", volume=0.2)
    event = await conn.event(sub)  # nothing came between the seek and this
    assert (event["seq"], event["type"]) == (marker["seq"], "player")

    resumed = await caused_by("player/play")
    assert resumed["playing"] is True
    assert resumed["position_ms"] >= 7000
    # Seeks while playing: the tick that follows a seek's position keeps the min gap too.
    for target in (3000, 9000, 1000, 12000, 5000):
        result = await conn.command("player/seek", position_ms=target)
        events = await conn.through(sub, result["seq"])
        if events[-1]["type"] == "player":  # its position waits for the 150 ms gap
            events.append(await conn.event(sub))
        assert events[-1]["data"]["position_ms"] >= target
        tick = await conn.event(sub)
        assert tick["type"] == "position"
        assert tick["data"]["position_ms"] >= target
        assert server_time(tick) - server_time(events[-1]) >= (
            timedelta(seconds=POSITION_MIN_GAP) - CLOCK_READ_SLACK
        )
    stopped = await caused_by("player/stop")
    assert stopped == {"position_ms": 0, "duration_ms": None, "track_id": None, "playing": False}
    assert live_of(entry).positions.timer is None


async def test_no_position_stream_without_subscribers(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Positions only run for subscribers: unsubscribing or closing the socket stops them."""
    hub = hub_of(entry)
    control = await connect(hass_ws_client, entry)
    await control.command("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    await asyncio.sleep(2 * POSITION_MIN_GAP)
    assert hub.subscriber_count == 0
    assert live_of(entry).positions.timer is None
    assert positions(list(hub.buffer)) == []  # nobody listening: no position event at all

    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    assert (await conn.event(sub))["type"] == "snapshot"
    assert live_of(entry).positions.timer is not None
    assert (await conn.event(sub))["type"] == "position"

    # unsubscribe_events: the stream stops, the connection stays usable.
    reply = await conn.result(await conn.send("unsubscribe_events", subscription=sub))
    assert reply["success"]
    assert hub.subscriber_count == 0
    assert live_of(entry).positions.timer is None
    seq = hub.seq
    await asyncio.sleep(2 * POSITION_MIN_GAP)
    assert hub.seq == seq
    marker = await conn.command("player/volume", volume=0.2)
    assert marker["seq"] == seq + 1  # a player event, no position in between

    # Closing the socket ends its subscriptions.
    again = await conn.subscribe()
    second = await connect(hass_ws_client, entry)
    second_sub = await second.subscribe()
    assert hub.subscriber_count == 2
    assert again != second_sub
    await conn.ws.close()
    await second.ws.close()
    await wait_for(lambda: hub.subscriber_count == 0)
    assert live_of(entry).positions.timer is None
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["events"]["subscribers"] == 0


# Event bus -----------------------------------------------------------------


class BusRecorder:
    """Every event fired on Home Assistant's bus while recording."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.events: list[Event] = []
        self._unsub = hass.bus.async_listen(MATCH_ALL, self._record)

    @callback
    def _record(self, event: Event) -> None:
        # A callback runs in the loop, in firing order (a plain function would go to a thread).
        self.events.append(event)

    def stop(self) -> None:
        """Stop recording."""
        self._unsub()

    def of(self, event_type: str) -> list[dict[str, Any]]:
        """Return the data of the recorded events of one type."""
        return [dict(e.data) for e in self.events if e.event_type == event_type]

    def ours(self) -> list[str]:
        """Return the types of our own events, in order."""
        return [e.event_type for e in self.events if e.event_type.startswith(DOMAIN)]


def device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """Return the id of the box's device."""
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    assert device is not None
    return device.id


async def test_bus_transitions(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Track starts and play/pause/stop go on the bus, with the entry and the device."""
    bus = BusRecorder(hass)
    conn = await connect(hass_ws_client, entry)
    book = playlist_id(entry, "Audiobook")
    ids = {"entry_id": entry.entry_id, "device_id": device_id(hass, entry)}
    await conn.command("player/play_playlist", playlist_id=book)
    await conn.command("player/pause")
    await conn.command("player/volume", volume=0.3)  # not a transition
    await conn.command("player/play")
    await conn.command("player/next")
    await conn.command("player/seek", position_ms=1000)  # not a transition
    await conn.command("player/stop")
    await hass.async_block_till_done()
    bus.stop()

    assert bus.ours() == [
        EVENT_TRACK_STARTED,
        EVENT_PLAYBACK_STATE,
        EVENT_PLAYBACK_STATE,
        EVENT_PLAYBACK_STATE,
        EVENT_TRACK_STARTED,
        EVENT_PLAYBACK_STATE,
    ]
    first, second = bus.of(EVENT_TRACK_STARTED)
    assert first == {
        **ids,
        "track_id": track_id(entry, "Chapter 1"),
        "title": "Chapter 1",
        "artist": None,
        "album": None,
        "duration_ms": 20000,
        "playlist_id": book,
    }
    assert (second["title"], second["playlist_id"]) == ("Chapter 2", book)
    assert bus.of(EVENT_PLAYBACK_STATE) == [
        {**ids, "state": state} for state in ("playing", "paused", "playing", "idle")
    ]
    assert bus.of(EVENT_PLAYLIST_FINISHED) == []  # stopped, not finished


async def test_playlist_finished_at_its_natural_end(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A playlist that plays to its end says so on the bus (once, after the last track)."""
    bus = BusRecorder(hass)
    conn = await connect(hass_ws_client, entry)
    created = await conn.command(
        "playlists/create", name="Short", track_ids=[track_id(entry, "Cow")]
    )
    await conn.command("player/play_playlist", playlist_id=created["id"])
    await wait_for(lambda: bool(bus.of(EVENT_PLAYLIST_FINISHED)))
    await hass.async_block_till_done()
    bus.stop()
    assert bus.of(EVENT_PLAYLIST_FINISHED) == [
        {
            "entry_id": entry.entry_id,
            "device_id": device_id(hass, entry),
            "playlist_id": created["id"],
        }
    ]
    assert bus.ours() == [
        EVENT_TRACK_STARTED,
        EVENT_PLAYBACK_STATE,  # playing
        EVENT_PLAYBACK_STATE,  # idle
        EVENT_PLAYLIST_FINISHED,
    ]
    assert bus.of(EVENT_PLAYBACK_STATE)[-1]["state"] == "idle"


async def test_positions_never_on_the_bus(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The recorder stores every bus event: positions go to WebSocket subscribers only."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    started = await conn.command(
        "player/play_playlist", playlist_id=playlist_id(entry, "Audiobook")
    )
    await conn.through(sub, started["seq"])
    bus = BusRecorder(hass)
    stream = [await conn.event(sub) for _ in range(6)]
    bus.stop()
    assert positions(stream) == stream  # the stream ran while the bus was watched...
    assert bus.ours() == []  # ...and none of it reached the bus
    for event in bus.events:
        assert "position" not in event.event_type
        assert "position_ms" not in event.data
    changed = [e for e in bus.of("state_changed") if e["entity_id"] == ENTITY_ID]
    assert changed == []  # the entity is written on transitions only; the frontend interpolates


# The sequence survives restarts -----------------------------------------------------------------


class Recorder:
    """A subscriber at the hub itself: each event with the reservation on disk at that moment."""

    def __init__(self, hass_storage: dict[str, Any], entry: MockConfigEntry) -> None:
        self.seen: list[tuple[int, int]] = []
        self._storage = hass_storage
        self._entry = entry

    @callback
    def __call__(self, envelope: dict[str, Any]) -> None:
        self.seen.append((envelope["seq"], stored_reservation(self._storage, self._entry)))

    def check(self) -> int:
        """Every seq was covered by the stored reservation when it went out; return the last."""
        for seq, reserved in self.seen:
            assert seq <= reserved, (seq, reserved)
        return self.seen[-1][0]


async def test_seq_survives_a_reload(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_storage: dict[str, Any],
) -> None:
    """After an unload and a new setup the sequence continues above anything a client saw."""
    assert stored_reservation(hass_storage, entry) == hub_of(entry).seq + SEQ_BLOCK
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    await conn.command("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    done = await conn.command("player/pause")
    seen = await conn.through(sub, done["seq"])
    last = seen[-1]["seq"]
    assert stored_reservation(hass_storage, entry) >= last

    await reload(hass, entry)
    hub = hub_of(entry)
    assert hub.seq > last
    back = await connect(hass_ws_client, entry)
    back_sub = await back.subscribe(since_seq=last)  # from the previous run: a snapshot
    snapshot = await back.event(back_sub)
    assert snapshot["seq"] > last
    assert_matches_entity(hass, entry, snapshot)
    result = await back.command("player/volume", volume=0.2)
    event = await back.event(back_sub)
    assert event["seq"] == result["seq"] == snapshot["seq"] + 1
    assert stored_reservation(hass_storage, entry) >= event["seq"]


@pytest.mark.parametrize("events", [5, 2 * SEQ_BLOCK + 100])
async def test_seq_survives_a_crash(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    events: int,
) -> None:
    """Whatever is on disk when HA dies (no final write) covers every seq already sent.

    A burst of events faster than the delayed save must not outrun the stored reservation.
    """
    hub = hub_of(entry)
    recorder = Recorder(hass_storage, entry)
    unsubscribe = hub.subscribe(recorder, hub.seq)
    await volume_burst(hass, events)
    unsubscribe()
    last = recorder.check()
    assert len(recorder.seen) == events
    on_disk = copy.deepcopy(hass_storage)  # the crash: nothing else gets written

    assert await hass.config_entries.async_unload(entry.entry_id)
    hass_storage.clear()
    hass_storage.update(on_disk)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hub_of(entry).seq > last
    await set_volume(hass, 0.2)
    assert hub_of(entry).buffer[-1]["seq"] > last


async def test_seq_survives_a_new_home_assistant(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """A second Home Assistant on the storage the first left when it died continues above it."""
    hass.config.allowlist_external_dirs = {str(library.parent)}
    entry = box_entry(library)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    recorder = Recorder(hass_storage, entry)
    hub = hub_of(entry)
    unsubscribe = hub.subscribe(recorder, hub.seq)
    await volume_burst(hass, SEQ_BLOCK // 2 + 10)  # into a renewed reservation
    unsubscribe()
    last = recorder.check()
    on_disk = copy.deepcopy(hass_storage)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_stop(force=True)
    hass_storage.clear()
    hass_storage.update(on_disk)

    async with async_test_home_assistant(config_dir=hass.config.config_dir) as restarted:
        restarted.data.pop(DATA_CUSTOM_COMPONENTS)
        restarted.config.allowlist_external_dirs = {str(library.parent)}
        again = MockConfigEntry(
            domain=DOMAIN,
            entry_id=entry.entry_id,
            title=entry.title,
            unique_id=entry.unique_id,
            data=dict(entry.data),
            options=dict(entry.options),
        )
        again.add_to_hass(restarted)
        assert await restarted.config_entries.async_setup(again.entry_id)
        await restarted.async_block_till_done()
        new_hub = hub_of(again)
        assert new_hub.seq > last
        assert stored_reservation(hass_storage, again) == new_hub.seq + SEQ_BLOCK
        recorder = Recorder(hass_storage, again)
        unsubscribe = new_hub.subscribe(recorder, new_hub.seq)
        await again.runtime_data.player.async_set_volume(0.2)
        unsubscribe()
        assert recorder.check() == new_hub.seq > last
        assert await restarted.config_entries.async_unload(again.entry_id)
        await restarted.async_stop(force=True)


# Slow subscribers -----------------------------------------------------------------


async def test_a_stalled_subscriber_does_not_hold_up_the_others(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A client that stops reading fills its own queue (HA then drops it); the others get all."""
    hub = hub_of(entry)
    stalled = await connect(hass_ws_client, entry)
    await stalled.subscribe()  # and never reads again
    reader = await connect(hass_ws_client, entry)
    sub = await reader.subscribe()
    start = (await reader.event(sub))["seq"]
    cow = track_id(entry, "Cow")
    entries = [cow] * 5000
    big = await reader.command("playlists/create", name="Big", track_ids=entries)
    received = [await reader.event(sub)]
    # Big playlist events first (~100 kB each): they fill the stalled socket's buffers...
    for _ in range(400):
        await hass.services.async_call(
            DOMAIN,
            "reorder_playlist",
            {"config_entry_id": entry.entry_id, "playlist_id": big["id"], "track_ids": entries},
            blocking=True,
        )
        received.append(await reader.event(sub))
    assert hub.subscriber_count == 2
    # ...then HA queues for it alone, until it gives up on that client.
    for i in range(2 * MAX_PENDING_MSG):
        await set_volume(hass, 0.3 if i % 2 else 0.4)
        received.append(await reader.event(sub))
        if hub.subscriber_count == 1:
            break
    assert hub.subscriber_count == 1  # the stalled one is gone, its subscription with it
    consecutive(received, start)  # the reader got every event, in order, meanwhile
    result = await reader.command("player/volume", volume=0.1)
    assert (await reader.event(sub))["seq"] == result["seq"]


# Diagnostics and life cycle -----------------------------------------------------------------


async def test_diagnostics(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Diagnostics show the hub's seq, buffer fill, subscribers and de-dup entries."""
    hub = hub_of(entry)
    figures = (await async_get_config_entry_diagnostics(hass, entry))["events"]
    assert figures == {
        "seq": hub.seq,
        "seq_reserved": hub.seq + SEQ_BLOCK,
        "buffer": 0,
        "buffer_size": REPLAY_BUFFER_SIZE,
        "subscribers": 0,
        "op_dedup": 0,
    }
    conn = await connect(hass_ws_client, entry)
    await conn.subscribe()
    await conn.command("player/volume", volume=0.2, client_op_id="op-1")
    await conn.command("player/volume", volume=0.2, client_op_id="op-1")  # a repeat
    await conn.command("player/volume", volume=0.3)
    figures = (await async_get_config_entry_diagnostics(hass, entry))["events"]
    assert figures["seq"] == hub.seq
    assert figures["buffer"] == 2
    assert figures["subscribers"] == 1
    assert figures["op_dedup"] == 1


async def test_unload_stops_the_stream(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """An unloaded box publishes nothing more, even to a subscriber still connected."""
    hub, live = hub_of(entry), live_of(entry)
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    await conn.command("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    assert [(await conn.event(sub))["type"] for _ in range(2)] == ["queue", "player"]
    assert live.positions.timer is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert live.positions.timer is None
    seq = hub.seq
    await asyncio.sleep(2 * POSITION_MIN_GAP)
    assert hub.seq == seq


async def test_catalog_changes(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    library: Path,
) -> None:
    """A vanished library folder: library (unavailable), index and player (unavailable) events."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    await hass.async_add_executor_job(library.rename, library.with_name("gone"))
    result = await conn.command("rescan")
    events = await conn.through(sub, result["seq"])
    assert [e["type"] for e in events] == ["library", "playlists", "player"]
    assert events[0]["data"]["available"] is False
    assert events[2]["data"]["available"] is False
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.state == "unavailable"

    # A change about a playlist that no longer exists when it is published is skipped.
    hub = hub_of(entry)
    seq = hub.seq
    live_of(entry)._on_catalog(CatalogChange(ChangeKind.PLAYLIST, ("ugone",)))
    assert hub.seq == seq


# Operation de-duplication -----------------------------------------------------------------


async def test_operation_cache_runs_once_per_key() -> None:
    """A repeat gets the first result without a second run; other keys run on their own."""
    cache = OperationCache()
    runs: list[str] = []

    async def action(value: str) -> str:
        runs.append(value)
        return value.upper()

    assert await cache.run("user", "a", "cmd", lambda: action("a")) == "A"
    assert await cache.run("user", "a", "cmd", lambda: action("again")) == "A"
    assert await cache.run("other user", "a", "cmd", lambda: action("b")) == "B"
    assert runs == ["a", "b"]
    assert len(cache) == 2


async def test_operation_cache_repeats_an_error() -> None:
    """A repeat of a failed operation gets the same error, without trying again."""
    cache = OperationCache()
    runs = 0

    async def failing() -> None:
        nonlocal runs
        runs += 1
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        await cache.run("user", "op", "cmd", failing)
    with pytest.raises(ValueError, match="nope"):
        await cache.run("user", "op", "cmd", failing)
    assert runs == 1


async def test_operation_cache_concurrent_repeat_waits_for_the_first() -> None:
    """A repeat that arrives while the first still runs waits for its result."""
    cache = OperationCache()
    release = asyncio.Event()
    runs = 0

    async def slow() -> int:
        nonlocal runs
        runs += 1
        await release.wait()
        return 42

    first = asyncio.ensure_future(cache.run("user", "op", "cmd", slow))
    second = asyncio.ensure_future(cache.run("user", "op", "cmd", slow))
    await asyncio.sleep(0)
    assert not first.done()
    assert not second.done()
    release.set()
    assert await asyncio.gather(first, second) == [42, 42]
    assert runs == 1


async def test_operation_cache_expires() -> None:
    """After the TTL the same key runs again."""
    cache = OperationCache(ttl=0.05)
    runs = 0

    async def action() -> int:
        nonlocal runs
        runs += 1
        return runs

    assert await cache.run("user", "op", "cmd", action) == 1
    assert await cache.run("user", "op", "cmd", action) == 1
    await asyncio.sleep(0.1)
    assert await cache.run("user", "op", "cmd", action) == 2
    assert len(cache) == 1


async def test_operation_cache_is_bounded() -> None:
    """The oldest entries go first when the cache is full."""
    cache = OperationCache(size=3)
    runs: list[int] = []

    async def action(i: int) -> int:
        runs.append(i)
        return i

    for i in range(5):
        await cache.run("user", str(i), "cmd", lambda i=i: action(i))
    assert len(cache) == 3
    assert await cache.run("user", "4", "cmd", lambda: action(40)) == 4  # recent: remembered
    assert await cache.run("user", "0", "cmd", lambda: action(50)) == 50  # oldest: forgotten
    assert runs == [0, 1, 2, 3, 4, 50]
    assert len(cache) == 3


async def seven() -> int:
    """An operation that ends at once."""
    return 7


async def forever() -> int:
    """An operation that never ends (until cancelled)."""
    await asyncio.Event().wait()
    return 0


async def run_forever(cache: OperationCache, key: tuple[str, str]) -> asyncio.Future[int]:
    """Start a never-ending operation under `key`; return it once it is running."""
    started = asyncio.Event()

    async def started_forever() -> int:
        started.set()
        return await forever()

    run = asyncio.ensure_future(cache.run(*key, "cmd", started_forever))
    await started.wait()
    return run


async def test_operation_cache_forgets_a_cancelled_operation() -> None:
    """A first run that was cancelled has no result: a later repeat runs instead of waiting."""
    cache = OperationCache()
    first = await run_forever(cache, ("user", "op"))
    waiting = asyncio.ensure_future(cache.run("user", "op", "cmd", seven))
    await asyncio.sleep(0)
    first.cancel()
    async with asyncio.timeout(TIMEOUT):
        with pytest.raises(asyncio.CancelledError):
            await first
        with pytest.raises(asyncio.CancelledError):
            await waiting  # it was waiting for the first: it ends with it, it does not hang
        assert len(cache) == 0
        assert await cache.run("user", "op", "cmd", seven) == 7


async def test_operation_cache_cancelled_after_eviction() -> None:
    """A cancelled run whose key was already pushed out by newer ones leaves the others alone."""
    cache = OperationCache(size=1)
    first = await run_forever(cache, ("user", "old"))
    assert await cache.run("user", "new", "cmd", seven) == 7  # evicts "old" while it still runs
    first.cancel()
    async with asyncio.timeout(TIMEOUT):
        with pytest.raises(asyncio.CancelledError):
            await first
    assert len(cache) == 1
    assert await cache.run("user", "new", "cmd", forever) == 7  # still remembered


# Behaviours added after review -----------------------------------------------------------------


async def test_track_started_again_on_repeat_one(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A track that starts again (repeat one) is announced again on the bus."""
    started: list[Event] = []
    hass.bus.async_listen(EVENT_TRACK_STARTED, started.append)
    box = entry.runtime_data
    await box.player.async_set_repeat(RepeatMode.ONE)
    dog = box.catalog.track(track_id(entry, "Dog"))
    assert dog is not None
    await box.player.async_play_tracks([dog])
    await wait_for(lambda: len(started) >= 2)
    assert {event.data["title"] for event in started} == {"Dog"}


async def test_track_loaded_paused_is_announced_when_it_plays(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Next while paused loads the track paused: it is announced once it plays."""
    started: list[str] = []
    hass.bus.async_listen(EVENT_TRACK_STARTED, lambda e: started.append(e.data["title"]))
    player = entry.runtime_data.player
    book = entry.runtime_data.catalog.playlist(playlist_id(entry, "Audiobook"))
    assert book is not None
    await player.async_play_tracks(entry.runtime_data.catalog.tracks_of(book))
    await player.async_pause()
    await player.async_next()
    await hass.async_block_till_done()
    assert started == ["Chapter 1"]
    await player.async_play()
    await hass.async_block_till_done()
    assert started == ["Chapter 1", "Chapter 2"]


async def test_unload_closes_subscriptions(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Unloading the box ends its subscriptions with a `closed` event; the socket stays usable."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await conn.event(sub) == {"type": "closed"}
    reply = await conn.result(await conn.send("ping"))
    assert reply["type"] == "pong"


async def test_command_positions_keep_the_gap(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Quick seeks: their positions merge so no two are closer than 150 ms; the last wins."""
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    await conn.command("player/play_playlist", playlist_id=playlist_id(entry, "Audiobook"))
    await conn.command("player/pause")
    await conn.command("player/seek", position_ms=3000)
    last = await conn.command("player/seek", position_ms=9000)
    events = await conn.through(sub, last["seq"])
    events += await conn.until(
        sub, lambda e: e["type"] == "position" and e["data"]["position_ms"] == 9000
    )
    positions = [e for e in events if e["type"] == "position"]
    for before, after in itertools.pairwise(positions):
        gap = server_time(after) - server_time(before)
        assert gap >= timedelta(seconds=POSITION_MIN_GAP) - CLOCK_READ_SLACK
    assert positions[-1]["data"]["playing"] is False
