"""Children's features: audiobooks resume where they stopped (across reloads and restarts).

Real HA core, real libmpv (ao=null).
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.components.media_player import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    ATTR_MEDIA_VOLUME_LEVEL,
    SERVICE_PLAY_MEDIA,
)
from homeassistant.const import (
    ATTR_CONFIG_ENTRY_ID,
    SERVICE_MEDIA_NEXT_TRACK,
    SERVICE_MEDIA_PAUSE,
    SERVICE_MEDIA_PLAY,
    SERVICE_MEDIA_STOP,
    SERVICE_VOLUME_SET,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.loader import DATA_CUSTOM_COMPONENTS
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
import voluptuous as vol

from custom_components.open_music_box.children.resume import SAVE_INTERVAL, PlaylistMode
from custom_components.open_music_box.const import (
    DOMAIN,
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
)
from custom_components.open_music_box.playback.player import PlayState

from .conftest import box_entry
from .helpers.kids import (
    ANIMALS,
    AUDIOBOOK,
    CHAPTER_1,
    CHAPTER_2,
    COW,
    DOG,
    flush,
    list_playlists,
    non_admin,
    play_media,
    player_call,
    set_mode,
    set_up,
    stored,
    the_box,
    tick,
    without_at,
    ws,  # noqa: F401 (fixtures)
)
from .helpers.player import state, wait_for, wait_position
from .helpers.ws import Client

# Resume: modes ----------------------------------------------------------------------------------


async def test_playlists_are_albums_until_made_audiobooks(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Client
) -> None:
    """Every playlist is an album; the mode shows in the index, in get, and in the events."""
    assert {p["mode"] for p in (await list_playlists(hass, entry)).values()} == {"album"}
    feed = await ws.feed()
    assert {p["mode"] for p in feed.events[0]["data"]["playlists"]} == {"album"}

    await set_mode(hass, entry, AUDIOBOOK, "audiobook")

    index = await list_playlists(hass, entry)
    assert index[AUDIOBOOK]["mode"] == "audiobook"
    assert index[ANIMALS]["mode"] == "album"
    got = await hass.services.async_call(
        DOMAIN,
        "get_playlist",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "playlist_id": AUDIOBOOK},
        blocking=True,
        return_response=True,
    )
    assert got is not None
    assert got["mode"] == "audiobook"
    assert (await ws.ok("playlists/get", playlist_id=AUDIOBOOK))["mode"] == "audiobook"
    (event,) = await feed.of_type(the_box(entry).events.seq, "playlists")
    assert {p["id"]: p["mode"] for p in event["playlists"]}[AUDIOBOOK] == "audiobook"

    # Over the WebSocket (admin), with the new summary as the result.
    result = await ws.ok("playlists/set_mode", playlist_id=AUDIOBOOK, mode="album")
    assert (result["id"], result["mode"]) == (AUDIOBOOK, "album")
    (event,) = await feed.of_type(result["seq"], "playlists")
    assert {p["mode"] for p in event["playlists"]} == {"album"}


async def test_set_mode_bad_input(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    ws: Client,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """Unknown playlists and modes, wrong types, other users: refused, nothing changes."""
    with pytest.raises(ServiceValidationError) as err:
        await set_mode(hass, entry, "nope", "audiobook")
    assert err.value.translation_key == "unknown_playlist"
    with pytest.raises(vol.Invalid):
        await set_mode(hass, entry, AUDIOBOOK, "podcast")
    with pytest.raises(vol.Invalid):
        await set_mode(hass, entry, "", "album")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "set_playlist_mode",
            {ATTR_CONFIG_ENTRY_ID: "nope", "playlist_id": AUDIOBOOK, "mode": "audiobook"},
            blocking=True,
        )
    assert err.value.translation_key == "entry_not_found"
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "set_playlist_mode",
            {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "playlist_id": AUDIOBOOK, "mode": "audiobook"},
            blocking=True,
            context=non_admin(hass),
        )

    await ws.error("playlists/set_mode", "unknown_playlist", playlist_id="nope", mode="album")
    await ws.error("playlists/set_mode", "invalid_format", playlist_id=AUDIOBOOK, mode="podcast")
    await ws.error("playlists/set_mode", "invalid_format", playlist_id=AUDIOBOOK)
    await ws.error("playlists/set_mode", "invalid_format", playlist_id=AUDIOBOOK, mode=1)
    reader = Client(await hass_ws_client(hass, hass_read_only_access_token), entry.entry_id)
    await reader.error("playlists/set_mode", "unauthorized", playlist_id=AUDIOBOOK, mode="album")
    await ws.works()

    assert {p["mode"] for p in (await list_playlists(hass, entry)).values()} == {"album"}


# Resume: where an audiobook stops -------------------------------------------------------------


async def play_chapter_2_to_6_s(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Play the audiobook's second chapter up to 6 s (a seek, then real playback)."""
    box = the_box(entry)
    await box.async_play_playlist(AUDIOBOOK, start_track_id=CHAPTER_2)
    await box.player.async_seek(5.5)
    await wait_position(entry, 6.0)


def current(entry: MockConfigEntry) -> tuple[str | None, float]:
    """Return the current track and the player's position anchor."""
    player = the_box(entry).player
    track = player.current
    return (None if track is None else track.id), player.position


async def test_audiobook_resumes_after_a_reload(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Played to 6 s and stopped: after a reload it starts at the same track, at ≈ 6 s."""
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await play_chapter_2_to_6_s(hass, entry)
    await player_call(hass, SERVICE_MEDIA_STOP)
    point = the_box(entry).resume.point(AUDIOBOOK)
    assert point is not None
    assert point["track_id"] == CHAPTER_2
    assert 6.0 <= point["position"] < 9.0  # 6 s, plus the time the stop took

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert without_at(stored(hass_storage, entry)["resume_points"][AUDIOBOOK]) == point

    await play_media(hass, AUDIOBOOK)
    track, position = current(entry)
    assert track == CHAPTER_2
    assert position == pytest.approx(point["position"])
    assert state(hass).attributes["media_title"] == "Chapter 2"
    await wait_position(entry, point["position"])  # mpv itself plays from there


async def test_album_starts_over(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """An album keeps no resume point: it starts again at its first track."""
    await play_media(hass, ANIMALS)
    await player_call(hass, SERVICE_MEDIA_NEXT_TRACK)
    await player_call(hass, SERVICE_MEDIA_PAUSE)
    await player_call(hass, SERVICE_MEDIA_STOP)
    assert the_box(entry).resume.point(ANIMALS) is None

    await play_media(hass, ANIMALS)
    assert current(entry) == (DOG, 0.0)
    # The audiobook too, while it is an album.
    await play_chapter_2_to_6_s(hass, entry)
    await play_media(hass, AUDIOBOOK)
    assert current(entry) == (CHAPTER_1, 0.0)


async def test_audiobook_resumes_after_a_restart(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """Home Assistant stops while the audiobook plays: the next start resumes it there."""
    entry = await set_up(hass, box_entry(library), library)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await set_mode(hass, entry, ANIMALS, "album")
    await play_chapter_2_to_6_s(hass, entry)

    await hass.async_stop(force=True)  # no unload: the box writes its point as HA stops

    point = stored(hass_storage, entry)["resume_points"][AUDIOBOOK]
    assert point["track_id"] == CHAPTER_2
    assert 6.0 <= point["position"] < 9.0  # 6 s, plus the time the stop took
    assert stored(hass_storage, entry)["playlist_modes"] == {AUDIOBOOK: "audiobook"}

    async with async_test_home_assistant(config_dir=hass.config.config_dir) as restarted:
        restarted.data.pop(DATA_CUSTOM_COMPONENTS)
        again = MockConfigEntry(
            domain=DOMAIN,
            entry_id=entry.entry_id,
            title=entry.title,
            unique_id=entry.unique_id,
            data=dict(entry.data),
            options=dict(entry.options),
        )
        await set_up(restarted, again, library)
        assert (await list_playlists(restarted, again))[AUDIOBOOK]["mode"] == "audiobook"

        await play_media(restarted, AUDIOBOOK)
        track, position = current(again)
        assert track == CHAPTER_2
        assert position == pytest.approx(point["position"])
        await play_media(restarted, ANIMALS)  # an album still starts over
        assert current(again) == (DOG, 0.0)

        assert await restarted.config_entries.async_unload(again.entry_id)
        await restarted.async_stop(force=True)


async def test_points_are_saved_on_pause_seek_track_change_and_every_10_s(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Each move of an audiobook is written (after the store's short delay)."""
    box = the_box(entry)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await play_media(hass, AUDIOBOOK)
    assert box.resume.point(AUDIOBOOK) == {"track_id": CHAPTER_1, "position": 0.0}

    await box.player.async_seek(3.0)
    assert box.resume.point(AUDIOBOOK) == {"track_id": CHAPTER_1, "position": 3.0}
    await flush(hass)
    assert stored(hass_storage, entry)["resume_points"][AUDIOBOOK]["position"] == 3.0

    # Every 10 s while playing, where playback has got to.
    await wait_position(entry, 4.0)
    await tick(hass, dt_util.utcnow() + SAVE_INTERVAL)
    point = box.resume.point(AUDIOBOOK)
    assert point is not None
    assert point["position"] >= 4.0

    await player_call(hass, SERVICE_MEDIA_PAUSE)
    paused_at = box.player.position
    assert box.resume.point(AUDIOBOOK) == {"track_id": CHAPTER_1, "position": round(paused_at, 1)}
    # Nothing moves while paused: the 10 s save changes nothing.
    await tick(hass, dt_util.utcnow() + SAVE_INTERVAL * 2)
    assert box.resume.point(AUDIOBOOK) == {"track_id": CHAPTER_1, "position": round(paused_at, 1)}

    await player_call(hass, SERVICE_MEDIA_PLAY)
    await player_call(hass, SERVICE_MEDIA_NEXT_TRACK)
    assert box.resume.point(AUDIOBOOK) == {"track_id": CHAPTER_2, "position": 0.0}

    # Volume changes are not moves: no write is scheduled for them.
    await flush(hass)
    before = dict(stored(hass_storage, entry)["resume_points"][AUDIOBOOK])
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.2})
    await flush(hass)
    assert stored(hass_storage, entry)["resume_points"][AUDIOBOOK] == before


async def test_another_playlist_keeps_the_audiobooks_place(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Starting something else while an audiobook plays keeps where the audiobook was."""
    box = the_box(entry)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await play_chapter_2_to_6_s(hass, entry)
    await play_media(hass, ANIMALS)
    point = box.resume.point(AUDIOBOOK)
    assert point is not None
    assert point["track_id"] == CHAPTER_2
    assert point["position"] >= 6.0
    assert box.resume.point(ANIMALS) is None

    # Clearing the queue (playlist forgotten first) also keeps the place.
    await play_media(hass, AUDIOBOOK)
    await box.player.async_seek(9.0)
    await box.player.async_clear()
    point = box.resume.point(AUDIOBOOK)
    assert point is not None
    assert (point["track_id"], point["position"] >= 9.0) == (CHAPTER_2, True)


async def test_explicit_start_track_wins(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A start track given by the caller (tag link, WebSocket) is played from its start."""
    box = the_box(entry)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await play_chapter_2_to_6_s(hass, entry)
    await box.async_play_playlist(AUDIOBOOK, start_track_id=CHAPTER_1)
    assert current(entry) == (CHAPTER_1, 0.0)
    await box.async_play_playlist(AUDIOBOOK, start_track_id=CHAPTER_2, position=2.0)
    assert current(entry) == (CHAPTER_2, 2.0)


async def test_made_an_audiobook_while_playing(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Switched to audiobook mid-way: it resumes from there; back to album forgets it."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await box.player.async_seek(8.0)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    point = box.resume.point(AUDIOBOOK)
    assert point is not None
    assert point["track_id"] == CHAPTER_1
    assert point["position"] >= 8.0

    await set_mode(hass, entry, AUDIOBOOK, "album")
    assert box.resume.point(AUDIOBOOK) is None
    await player_call(hass, SERVICE_MEDIA_STOP)
    await play_media(hass, AUDIOBOOK)
    assert current(entry) == (CHAPTER_1, 0.0)


async def test_finished_audiobook_starts_over(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Played to its very end: the next time it starts at the beginning."""
    box = the_box(entry)
    await set_mode(hass, entry, ANIMALS, "audiobook")  # 1 s tracks: quick to finish
    await box.async_play_playlist(ANIMALS, start_track_id=COW)
    assert box.resume.point(ANIMALS) == {"track_id": COW, "position": 0.0}
    await wait_for(lambda: box.player.state is PlayState.IDLE)
    await hass.async_block_till_done()
    assert box.resume.point(ANIMALS) is None

    await play_media(hass, ANIMALS)
    assert current(entry) == (DOG, 0.0)


async def test_albums_and_single_tracks_keep_no_points(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """A track played alone, or an album played to its end, leaves nothing to resume."""
    box = the_box(entry)
    await player_call(
        hass,
        SERVICE_PLAY_MEDIA,
        **{ATTR_MEDIA_CONTENT_ID: f"track:{COW}", ATTR_MEDIA_CONTENT_TYPE: "music"},
    )
    assert box.player.playlist_id is None
    await wait_for(lambda: box.player.state is PlayState.IDLE)
    await box.async_play_playlist(ANIMALS, start_track_id=COW)
    await wait_for(lambda: box.player.state is PlayState.IDLE)
    await hass.async_block_till_done()
    await flush(hass)
    assert stored(hass_storage, entry).get("resume_points", {}) == {}


# Resume: what is gone is forgotten ----------------------------------------------------------


async def test_points_of_removed_tracks_and_playlists_are_dropped(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path, hass_storage: dict[str, Any]
) -> None:
    """Edits, deletions and files gone from disk drop what they make meaningless."""
    box = the_box(entry)
    created = await hass.services.async_call(
        DOMAIN,
        "create_playlist",
        {
            ATTR_CONFIG_ENTRY_ID: entry.entry_id,
            "name": "Story",
            "track_ids": [CHAPTER_1, CHAPTER_2],
        },
        blocking=True,
        return_response=True,
    )
    assert created is not None
    story = str(created["id"])
    assert created["mode"] == "album"
    await set_mode(hass, entry, story, "audiobook")
    await box.async_play_playlist(story, start_track_id=CHAPTER_2)
    await box.player.async_seek(4.0)
    await player_call(hass, SERVICE_MEDIA_STOP)
    assert box.resume.point(story) == {"track_id": CHAPTER_2, "position": 4.0}

    # Its track leaves the playlist: the point goes, the mode stays.
    await hass.services.async_call(
        DOMAIN,
        "remove_tracks",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "playlist_id": story, "track_ids": [CHAPTER_2]},
        blocking=True,
    )
    assert box.resume.point(story) is None
    assert box.resume.mode(story) == "audiobook"
    await play_media(hass, story)
    assert current(entry) == (CHAPTER_1, 0.0)
    await box.player.async_seek(2.0)
    await player_call(hass, SERVICE_MEDIA_STOP)

    # The playlist is deleted: its mode and point go too, and are not written again.
    await hass.services.async_call(
        DOMAIN,
        "delete_playlist",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "playlist_id": story},
        blocking=True,
    )
    await flush(hass)
    assert story not in stored(hass_storage, entry)["playlist_modes"]
    assert story not in stored(hass_storage, entry)["resume_points"]
    assert box.resume.mode(story) == "album"


async def test_point_of_a_deleted_file(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """The file under a resume point is deleted: the audiobook starts over, no error."""
    box = the_box(entry)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await box.async_play_playlist(AUDIOBOOK, start_track_id=CHAPTER_2)
    await player_call(hass, SERVICE_MEDIA_STOP)
    (library / "Audiobook" / "Chapter 2.wav").unlink()
    await hass.services.async_call(
        DOMAIN, "rescan", {ATTR_CONFIG_ENTRY_ID: entry.entry_id}, blocking=True
    )
    assert box.resume.point(AUDIOBOOK) is None
    await play_media(hass, AUDIOBOOK)
    assert current(entry) == (CHAPTER_1, 0.0)


async def test_point_of_a_vanished_file_in_a_user_playlist(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """A user playlist keeps the id of a vanished file; its point is dropped when played."""
    box = the_box(entry)
    story = box.catalog.create_playlist("Story", [CHAPTER_1, CHAPTER_2]).id
    box.set_playlist_mode(story, PlaylistMode.AUDIOBOOK)
    await box.async_play_playlist(story, start_track_id=CHAPTER_2)
    await player_call(hass, SERVICE_MEDIA_STOP)
    (library / "Audiobook" / "Chapter 2.wav").unlink()
    await box.async_rescan()
    assert box.resume.point(story) == {"track_id": CHAPTER_2, "position": 0.0}  # id still listed

    await play_media(hass, story)
    assert current(entry) == (CHAPTER_1, 0.0)
    assert box.resume.point(story) == {"track_id": CHAPTER_1, "position": 0.0}


async def test_missing_library_folder_keeps_the_audiobooks(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """An unplugged drive does not erase modes and points; they are back with the folder."""
    box = the_box(entry)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await box.async_play_playlist(AUDIOBOOK, start_track_id=CHAPTER_2)
    await player_call(hass, SERVICE_MEDIA_STOP)
    moved = library.parent / "elsewhere"
    await hass.async_add_executor_job(library.rename, moved)
    await box.async_rescan()
    assert not box.catalog.available
    assert box.resume.mode(AUDIOBOOK) == "audiobook"
    assert box.resume.point(AUDIOBOOK) is not None

    await hass.async_add_executor_job(moved.rename, library)
    await box.async_rescan()
    await play_media(hass, AUDIOBOOK)
    assert current(entry)[0] == CHAPTER_2


async def test_stale_stored_data_is_cleaned_at_start(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """Modes and points of playlists deleted while HA was off are dropped; odd modes are albums."""
    entry = box_entry(library)
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": STORAGE_VERSION,
        "minor_version": STORAGE_MINOR_VERSION,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {
            "playlists": {},
            "playlist_modes": {AUDIOBOOK: "audiobook", ANIMALS: "weird", "ugone": "audiobook"},
            "resume_points": {
                AUDIOBOOK: {"track_id": CHAPTER_2, "position": 5.0},
                "ugone": {"track_id": DOG, "position": 1.0},
            },
        },
    }
    await set_up(hass, entry, library)
    box = the_box(entry)
    assert box.resume.mode(ANIMALS) == "album"
    assert box.resume.point("ugone") is None
    assert box.resume.mode("ugone") == "album"
    await play_media(hass, AUDIOBOOK)
    assert current(entry) == (CHAPTER_2, 5.0)
    await flush(hass)
    assert "ugone" not in stored(hass_storage, entry)["playlist_modes"]
    assert await hass.config_entries.async_unload(entry.entry_id)
