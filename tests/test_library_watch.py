"""The library folder lives: new music shows up, a vanished folder is noticed, bad files are told.

Real watchdog (inotify), real files, real libmpv (null audio output). Changes are awaited with a
deadline (polling the box), never with a sleep followed by a timing assertion.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import os
from pathlib import Path
import shutil
import threading
from typing import Any

from homeassistant.components.media_player import ATTR_MEDIA_CONTENT_ID
from homeassistant.const import STATE_PLAYING, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
from watchdog.observers.api import BaseObserver

from custom_components.open_music_box.catalog import CatalogChange, ChangeKind
from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.library import folder_playlist_id, m3u_playlist_id, track_id
from custom_components.open_music_box.playback.player import PlayState

from .audio import undecodable_wav, write_wav
from .conftest import ENTITY_ID
from .helpers.hub import Conn, connect
from .helpers.player import play, state
from .helpers.rooms import (
    INTERNAL_URL,
    ROOM_ENTITY,
    ROOM_ID,
    play_long,
    room_subentry,
    setup_room_entry,
    sync_library,
)

DEADLINE = 5.0  # seconds: what the README promises for a change on disk to show


@pytest.fixture(autouse=True)
def my_media(hass: HomeAssistant, library: Path) -> Path:
    """HA's "My media" is the folder that holds the library (as <config>/media by default)."""
    hass.config.media_dirs = {"local": str(library.parent)}
    return library.parent


async def until(condition: Callable[[], bool], deadline: float = DEADLINE) -> None:
    """Wait until `condition` holds; fail when the deadline passes first."""
    async with asyncio.timeout(deadline):
        while not condition():  # noqa: ASYNC110 - the box changes on watchdog's and mpv's threads
            await asyncio.sleep(0.05)


def titles(entry: MockConfigEntry, playlist_id: str) -> list[str] | None:
    """Titles of a playlist of the box's catalog, None when it has no such playlist."""
    catalog = entry.runtime_data.catalog
    playlist = catalog.playlist(playlist_id)
    return None if playlist is None else [t.title for t in catalog.tracks_of(playlist)]


def library_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"library_missing_{entry.entry_id}")


async def browse_titles(hass: HomeAssistant, hass_ws_client: WebSocketGenerator) -> list[str]:
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id({"type": "media_player/browse_media", "entity_id": ENTITY_ID})
    reply = await ws.receive_json()
    assert reply["success"], reply
    # Titles carry the playlist's duration ("Name · 0:03"): the names are before it.
    return [child["title"].split(" · ")[0] for child in reply["result"]["children"]]


# A. New music shows up by itself ------------------------------------------------------------


async def test_new_music_shows_up_and_goes_by_itself(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    library: Path,
    tmp_path: Path,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A file copied in is browsable within seconds, without rescan; deleted, it is gone."""
    source = await hass.async_add_executor_job(write_wav, tmp_path / "outside" / "Hello.wav")
    new = folder_playlist_id("New songs")
    assert titles(entry, new) is None

    await hass.async_add_executor_job((library / "New songs").mkdir)
    await hass.async_add_executor_job(shutil.copy, source, library / "New songs" / "Hello.wav")
    await until(lambda: titles(entry, new) == ["Hello"])
    assert "New songs" in await browse_titles(hass, hass_ws_client)

    # A second file into the same folder, moved in from outside (an import, a download).
    other = await hass.async_add_executor_job(write_wav, tmp_path / "outside" / "Bye.wav")
    await hass.async_add_executor_job(os.rename, other, library / "New songs" / "Bye.wav")
    await until(lambda: titles(entry, new) == ["Bye", "Hello"])

    await hass.async_add_executor_job(os.remove, library / "New songs" / "Hello.wav")
    await until(lambda: titles(entry, new) == ["Bye"])
    await hass.async_add_executor_job(shutil.rmtree, library / "New songs")
    await until(lambda: titles(entry, new) is None)
    assert "New songs" not in await browse_titles(hass, hass_ws_client)
    assert entry.runtime_data.catalog.available

    # The watch ends with the entry: no observer thread is left.
    watch = entry.runtime_data.watch
    assert watch.watching
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert not watch.watching
    assert not [t for t in threading.enumerate() if isinstance(t, BaseObserver)]


async def test_a_burst_of_files_is_one_rescan_not_one_per_file(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path, tmp_path: Path
) -> None:
    """An album copied in costs a rescan or two, not twenty; hidden files change nothing."""
    changes: list[CatalogChange] = []
    unsub = entry.runtime_data.catalog.async_add_change_listener(changes.append)
    album = tmp_path / "outside" / "Album"

    def copy_album() -> None:
        for number in range(1, 21):
            write_wav(album / f"{number:02d}.wav", 0.1)
        shutil.copytree(album, library / "Album")

    await hass.async_add_executor_job(copy_album)
    await until(lambda: len(titles(entry, folder_playlist_id("Album")) or []) == 20)
    rescans = [c for c in changes if c.kind is ChangeKind.LIBRARY]
    assert 1 <= len(rescans) < 5

    # What the scan skips (hidden: the importer's work folder) is no change worth a rescan.
    changes.clear()
    hidden = library / ".imports-tmp" / "job"
    await hass.async_add_executor_job(lambda: write_wav(hidden / "part.wav", 0.1))
    # A visible change after it: once it shows, the hidden one had its chance to show too.
    await hass.async_add_executor_job(lambda: write_wav(library / "Album" / "21.wav", 0.1))
    await until(lambda: len(titles(entry, folder_playlist_id("Album")) or []) == 21)
    assert len([c for c in changes if c.kind is ChangeKind.LIBRARY]) == 1
    unsub()


async def test_library_files_from_my_media_are_the_box_tracks(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """A library file played from HA's media browser has its tags, cover and playlist."""
    await play(hass, "media-source://media_source/local/library/Animals/01 Dog.wav")
    shown = state(hass)
    assert shown.state == STATE_PLAYING
    assert shown.attributes[ATTR_MEDIA_CONTENT_ID] == f"track:{track_id('Animals/01 Dog.wav')}"
    assert shown.attributes["media_title"] == "Dog"
    assert shown.attributes["media_artist"] == "Kids"
    assert shown.attributes["media_duration"] == 1
    assert shown.attributes["media_playlist"] == "Animals"
    assert shown.attributes.get("entity_picture")  # the embedded cover

    # An m3u of the library plays as the playlist it is.
    await play(hass, "media-source://media_source/local/library/Mix.m3u")
    player = entry.runtime_data.player
    assert player.playlist_id == m3u_playlist_id("Mix.m3u")
    assert [t.title for t in player.queue] == ["Cow", "Chapter 1"]
    assert state(hass).attributes["media_playlist"] == "Mix"

    # A file outside the library still plays, as a plain file.
    outside = await hass.async_add_executor_job(write_wav, library.parent / "Bell.wav", 5.0)
    await play(hass, f"media-source://media_source/local/{outside.name}")
    assert state(hass).attributes["media_title"] == "Bell"
    assert "media_playlist" not in state(hass).attributes


# B. A vanished library folder ---------------------------------------------------------------


async def test_vanished_folder_stops_playback_and_refuses_at_once(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    library: Path,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Deleted while playing: noticed within seconds, nothing plays, commands fail translated."""
    box = entry.runtime_data
    conn = await connect(hass_ws_client, entry)
    audiobook = folder_playlist_id("Audiobook")
    await conn.command("player/play_playlist", playlist_id=audiobook)
    assert box.player.state is PlayState.PLAYING

    await hass.async_add_executor_job(shutil.rmtree, library)
    await until(lambda: state(hass).state == STATE_UNAVAILABLE)
    # The box says so at once; the player stops once it is free (it may be mid-command).
    await until(lambda: box.player.state is not PlayState.PLAYING)
    assert box.live.player_state()["state"] != "playing"
    assert library_issue(hass, entry) is not None

    for command, data in (
        ("player/play_playlist", {"playlist_id": audiobook}),
        ("player/play", {}),
    ):
        reply = await error(conn, command, data)
        assert reply["code"] == "library_unavailable", reply
        assert reply["translation_key"] == "library_unavailable"
        assert "not available" in reply["message"]
    assert box.player.state is PlayState.IDLE


async def test_renamed_folder_and_its_return_are_noticed(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path, tmp_path: Path
) -> None:
    """Renamed away (no file event for the folder itself) and back: both within seconds."""
    moved = library.with_name("elsewhere")
    await hass.async_add_executor_job(library.rename, moved)
    await until(lambda: state(hass).state == STATE_UNAVAILABLE)
    assert library_issue(hass, entry) is not None

    await hass.async_add_executor_job(moved.rename, library)
    await until(lambda: state(hass).state != STATE_UNAVAILABLE)
    assert library_issue(hass, entry) is None
    # The folder that came back is watched again.
    song = await hass.async_add_executor_job(write_wav, tmp_path / "Back.wav")
    await hass.async_add_executor_job(shutil.copy, song, library / "Animals" / "Back.wav")
    await until(lambda: "Back" in (titles(entry, folder_playlist_id("Animals")) or []))


async def test_a_command_right_after_the_folder_vanished_fails_at_once(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path, hass_ws_client: WebSocketGenerator
) -> None:
    """Renamed away, and a play command before the watch or its periodic check could notice:
    the command itself fails with the translated error (not `success`, then idle)."""
    box = entry.runtime_data
    conn = await connect(hass_ws_client, entry)
    await hass.async_add_executor_job(library.rename, library.with_name("elsewhere"))
    assert box.catalog.available  # nothing has noticed yet
    reply = await error(
        conn, "player/play_playlist", {"playlist_id": folder_playlist_id("Animals")}
    )
    assert reply["code"] == "library_unavailable", reply
    assert box.player.state is PlayState.IDLE
    await until(lambda: state(hass).state == STATE_UNAVAILABLE)
    assert library_issue(hass, entry) is not None


async def test_a_room_playing_the_vanished_folder_stops(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """A room plays the library too: it stops as the box does, its entity turns unavailable."""
    await hass.config.async_update(internal_url=INTERNAL_URL)
    library = sync_library(tmp_path / "rooms" / "library")
    entry = await setup_room_entry(hass, library, room_subentry(local=[("null", 0.0)]))
    await play_long(hass, entry)
    room = entry.runtime_data.rooms[ROOM_ID]
    assert room.player.state is PlayState.PLAYING

    await hass.async_add_executor_job(shutil.rmtree, library)
    await until(lambda: state(hass, ROOM_ENTITY).state == STATE_UNAVAILABLE)
    await until(lambda: room.player.state is not PlayState.PLAYING)
    assert room.player.state is PlayState.IDLE
    assert await hass.config_entries.async_unload(entry.entry_id)


async def error(conn: Conn, command: str, data: dict[str, Any]) -> dict[str, Any]:
    """Send one of our commands that must fail; return its error."""
    reply = await conn.result(
        await conn.send(f"{DOMAIN}/{command}", entry_id=conn.entry_id, **data)
    )
    assert not reply["success"], reply
    found: dict[str, Any] = reply["error"]
    return found


# C. A track that cannot be decoded ----------------------------------------------------------


@pytest.mark.parametrize("broken_at", [0, 1])
async def test_undecodable_track_is_reported_and_skipped(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
    broken_at: int,
) -> None:
    """mpv cannot decode a track: a `player` event names it and why, a warning is logged,
    and the next track plays (first track of the queue, or one mpv had prepared)."""
    names = ["01 One.wav", "02 Two.wav", "03 Three.wav"]
    folder = entry.runtime_data.catalog.root / "Mixed"

    def write() -> None:
        for index, name in enumerate(names):
            if index == broken_at:
                undecodable_wav(folder / name)
            else:
                write_wav(folder / name, 0.5 if index < 2 else 20.0)

    await hass.async_add_executor_job(write)
    await entry.runtime_data.async_rescan()
    mixed = folder_playlist_id("Mixed")
    assert titles(entry, mixed) == ["01 One", "02 Two", "03 Three"]  # the scan saw no fault

    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)  # the snapshot
    await conn.command("player/play_playlist", playlist_id=mixed)
    events = await conn.until(sub, lambda e: e["type"] == "player" and "skipped" in e["data"])
    skipped = events[-1]["data"]["skipped"]
    broken = track_id(f"Mixed/{names[broken_at]}")
    assert skipped["track"]["track_id"] == broken
    assert skipped["track"]["title"] == names[broken_at].removesuffix(".wav")
    assert skipped["reason"] == "no audio or video data played"
    assert f"Cannot play {folder / names[broken_at]}" in caplog.text

    # Not the end of the queue: the last track (20 s) plays.
    player = entry.runtime_data.player
    await until(lambda: player.current is not None and player.current.title == "03 Three")
    assert player.state is PlayState.PLAYING


async def test_a_prepared_track_that_fails_before_the_player_follows_is_skipped(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The output moves onto the prepared track, which fails and ends, while the player is
    still busy (a command holds it, or the machine is loaded): the queue goes on, it does
    not end there."""
    folder = entry.runtime_data.catalog.root / "Busy"

    def write() -> None:
        write_wav(folder / "1.wav", 1.5)
        undecodable_wav(folder / "2.wav")
        write_wav(folder / "3.wav", 20.0)

    await hass.async_add_executor_job(write)
    await entry.runtime_data.async_rescan()
    conn = await connect(hass_ws_client, entry)
    sub = await conn.subscribe()
    await conn.event(sub)
    player = entry.runtime_data.player
    await conn.command("player/play_playlist", playlist_id=folder_playlist_id("Busy"))
    assert player.current is not None
    assert player.current.title == "1"
    async with player.lock:  # busy before track 1 ends: the output moves on alone
        await conn.until(sub, lambda e: e["type"] == "player" and "skipped" in e["data"])
        await asyncio.sleep(0.3)  # the failed track's end arrives too
    await until(lambda: player.current is not None and player.current.title == "3")
    assert player.state is PlayState.PLAYING


async def test_a_queue_of_only_undecodable_tracks_stops(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    library: Path,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Repeat all over tracks that all fail stops, instead of failing round and round."""
    folder = library / "Broken"
    await hass.async_add_executor_job(
        lambda: [undecodable_wav(folder / f"{n}.wav") for n in (1, 2)]
    )
    await entry.runtime_data.async_rescan()
    conn = await connect(hass_ws_client, entry)
    await conn.command("player/repeat", repeat="all")
    sub = await conn.subscribe()
    await conn.event(sub)
    await conn.command("player/play_playlist", playlist_id=folder_playlist_id("Broken"))
    player = entry.runtime_data.player
    await until(lambda: player.state is PlayState.IDLE)
    skipped: list[dict[str, Any]] = []
    while len(skipped) < 2:
        event = await conn.event(sub)
        if event["type"] == "player" and "skipped" in event["data"]:
            skipped.append(event["data"]["skipped"])
    assert [s["track"]["title"] for s in skipped] == ["1", "2"]
