"""The WebSocket API: player and playlist commands, the events and seq they cause, subscribe.

Real HA core, real libmpv (ao=null).
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.catalog import MAX_NAME_LENGTH
from custom_components.open_music_box.const import DOMAIN

from .audio import write_wav
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
