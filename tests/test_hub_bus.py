"""The live-state hub on Home Assistant's event bus: transitions, finished playlists, no positions.

Real Home Assistant core and a real libmpv box (null audio output) on a generated library.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.media_player import RepeatMode
from homeassistant.const import MATCH_ALL
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    WebSocketGenerator,
)

from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.events import (
    EVENT_PLAYBACK_STATE,
    EVENT_PLAYLIST_FINISHED,
    EVENT_TRACK_STARTED,
)

from .conftest import ENTITY_ID
from .helpers.hub import (
    connect,
    positions,
)
from .helpers.player import playlist_id, track_id, wait_for

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
