"""The live-state hub's replay: a snapshot first, replay after a reconnect, seq across restarts.

Real Home Assistant core, real WebSocket clients (`hass_ws_client`) and a real libmpv box
(null audio output) on a generated library.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.loader import DATA_CUSTOM_COMPONENTS
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_test_home_assistant
from pytest_homeassistant_custom_component.typing import (
    WebSocketGenerator,
)

from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.events import (
    REPLAY_BUFFER_SIZE,
    SEQ_BLOCK,
)

from .conftest import box_entry
from .helpers.hub import (
    assert_matches_entity,
    check_envelope,
    connect,
    consecutive,
    hub_of,
    reload,
    set_volume,
    stored_reservation,
    volume_burst,
)
from .helpers.player import playlist_id, track_id, wait_for

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
