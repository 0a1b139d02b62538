"""The box's actions (services): reading playlists, rescan and the library folder, play_media.

Real HA core, real libmpv (ao=null).
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

from pathlib import Path
import shutil

from homeassistant.const import (
    STATE_PLAYING,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.open_music_box.const import DOMAIN, LIBRARY_CHECK_INTERVAL_SECONDS
from custom_components.open_music_box.library import folder_playlist_id, m3u_playlist_id

from .audio import make_track, write_wav
from .conftest import build_library
from .helpers.player import play, state
from .helpers.services import (
    ANIMALS,
    AUDIOBOOK,
    MIX,
    act,
    create,
    library_issue,
    media_dir,  # noqa: F401 (fixtures)
    playlist,
    playlists,
    tick,
    titles,
    track_ids,
)

# Reading -----------------------------------------------------------------------------------


async def test_list_playlists(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Folders and m3u files are read-only playlists, sorted by name, with their sizes."""
    folder = {"kind": "folder", "read_only": True, "mode": "album"}
    assert await playlists(hass, entry) == [
        {"id": ANIMALS, "name": "Animals", **folder, "track_count": 3},
        {"id": AUDIOBOOK, "name": "Audiobook", **folder, "track_count": 2},
        {"id": MIX, "name": "Mix", **folder, "kind": "m3u", "track_count": 2},
    ]


async def test_get_folder_playlist(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Tracks come in tag order with their tags; untagged files are named after the file."""
    animals = await playlist(hass, entry, ANIMALS)
    tracks = animals.pop("tracks")
    track_ids_of = animals.pop("track_ids")
    assert animals.pop("playlist_seq") == 0
    assert animals == {
        "id": ANIMALS,
        "name": "Animals",
        "kind": "folder",
        "read_only": True,
        "track_count": 3,
        "mode": "album",
    }
    assert [(t["title"], t["artist"], t["album"]) for t in tracks] == [
        ("Dog", "Kids", "Animals"),
        ("Cat", "Kids", "Animals"),
        ("Cow", "Kids", "Animals"),
    ]
    assert [t["duration_ms"] for t in tracks] == pytest.approx([1000, 1000, 1000], abs=50)
    assert len({t["track_id"] for t in tracks}) == 3
    assert track_ids_of == [t["track_id"] for t in tracks]

    book = await playlist(hass, entry, AUDIOBOOK)
    assert [(t["title"], t["artist"], t["album"]) for t in book["tracks"]] == [
        ("Chapter 1", None, None),
        ("Chapter 2", None, None),
    ]
    assert [t["duration_ms"] for t in book["tracks"]] == pytest.approx([20000, 20000], abs=50)


async def test_get_m3u_playlist(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """An m3u lists the same tracks as the folders (same ids); a file's own tags beat #EXTINF."""
    mix = await playlist(hass, entry, MIX)
    assert (mix["name"], mix["kind"], mix["read_only"], mix["track_count"]) == (
        "Mix",
        "m3u",
        True,
        2,
    )
    ids = await track_ids(hass, entry)
    assert [t["track_id"] for t in mix["tracks"]] == [ids["Cow"], ids["Chapter 1"]]
    assert [t["title"] for t in mix["tracks"]] == ["Cow", "Chapter 1"]  # not "The cow"


async def test_m3u_extinf_titles(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """#EXTINF names what has no tags of its own: an untagged file only the m3u lists, a URL."""
    write_wav(library.parent / "elsewhere" / "untitled.wav", 1.0)  # allowed, outside the library
    (library / "Radio.m3u8").write_text(
        "#EXTM3U\n"
        "#EXTINF:1,Lullaby\n../elsewhere/untitled.wav\n"
        "#EXTINF:-1,Kids radio\nhttp://radio.invalid/stream\n"
        "#EXTINF:2,Dog again\nAnimals/01 Dog.wav\n"
        "../elsewhere/untitled.wav\n",
        "utf-8",
    )
    await act(hass, entry, "rescan")

    radio = await playlist(hass, entry, m3u_playlist_id("Radio.m3u8"))
    assert (radio["name"], radio["kind"], radio["track_count"]) == ("Radio", "m3u", 4)
    assert [t["title"] for t in radio["tracks"]] == ["Lullaby", "Kids radio", "Dog", "Lullaby"]
    # an m3u may repeat an entry
    assert radio["tracks"][0]["track_id"] == radio["tracks"][3]["track_id"]
    assert radio["tracks"][1]["duration_ms"] is None  # -1: unknown length


# Rescan and the library folder -------------------------------------------------------------


async def test_rescan_finds_new_folder(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """A folder added on disk becomes a playlist at the next rescan."""
    make_track(library / "Songs" / "Hello.wav", 20.0, title="Hello")
    assert "Songs" not in [p["name"] for p in await playlists(hass, entry)]

    await act(hass, entry, "rescan")

    songs = await playlist(hass, entry, folder_playlist_id("Songs"))
    assert (songs["name"], songs["kind"], songs["read_only"]) == ("Songs", "folder", True)
    assert [t["title"] for t in songs["tracks"]] == ["Hello"]
    await play(hass, f"playlist:{songs['id']}")
    assert state(hass).attributes["media_title"] == "Hello"


async def test_rescan_missing_folder(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """A vanished library makes the box unavailable with a repair issue, until it is back."""
    ids = await track_ids(hass, entry)
    mine = await create(hass, entry, "Mine", ids["Chapter 1"])
    assert state(hass).state != STATE_UNAVAILABLE
    assert library_issue(hass, entry) is None

    shutil.rmtree(library)
    await act(hass, entry, "rescan")

    assert state(hass).state == STATE_UNAVAILABLE
    issue = library_issue(hass, entry)
    assert issue is not None
    assert (issue.severity, issue.translation_key, issue.is_fixable) == (
        ir.IssueSeverity.ERROR,
        "library_missing",
        False,
    )
    assert issue.translation_placeholders == {"name": "Music Box", "path": str(library)}
    # The last scan and the user's playlists stay known (the folder may be remounted).
    assert len(await playlists(hass, entry)) == 4
    assert await titles(hass, entry, mine) == ["Chapter 1"]

    build_library(library)
    await act(hass, entry, "rescan")

    assert state(hass).state != STATE_UNAVAILABLE
    assert library_issue(hass, entry) is None
    await play(hass, f"playlist:{mine}")
    assert state(hass).state == STATE_PLAYING


async def test_folder_check(hass: HomeAssistant, entry: MockConfigEntry, library: Path) -> None:
    """The periodic check notices the folder vanish and come back, without any rescan call."""
    interval = LIBRARY_CHECK_INTERVAL_SECONDS + 1
    await tick(hass, interval)  # folder present: nothing happens
    assert state(hass).state != STATE_UNAVAILABLE
    assert library_issue(hass, entry) is None

    shutil.rmtree(library)  # between two checks
    await tick(hass, 2 * interval)
    assert state(hass).state == STATE_UNAVAILABLE
    assert library_issue(hass, entry) is not None
    await tick(hass, 3 * interval)  # still gone: still unavailable
    assert state(hass).state == STATE_UNAVAILABLE
    assert library_issue(hass, entry) is not None

    build_library(library)
    make_track(library / "Songs" / "Hello.wav", 1.0, title="Hello")
    await tick(hass, 4 * interval)

    assert state(hass).state != STATE_UNAVAILABLE
    assert library_issue(hass, entry) is None
    # Coming back rescans: what was added meanwhile is there.
    assert await titles(hass, entry, folder_playlist_id("Songs")) == ["Hello"]


async def test_folder_check_after_rescan_found_it_missing(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """A folder found missing by a rescan comes back through the periodic check."""
    shutil.rmtree(library)
    await act(hass, entry, "rescan")
    assert state(hass).state == STATE_UNAVAILABLE

    build_library(library)
    await tick(hass, LIBRARY_CHECK_INTERVAL_SECONDS + 1)

    assert state(hass).state != STATE_UNAVAILABLE
    assert library_issue(hass, entry) is None


# play_media ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "media_id",
    ["playlist:nope", "track:nope", "something", "media-source://media_source/nowhere/x.wav"],
)
async def test_play_unknown_media(
    hass: HomeAssistant, entry: MockConfigEntry, media_id: str
) -> None:
    """An id the box does not know is a translated error."""
    with pytest.raises(ServiceValidationError) as err:
        await play(hass, media_id)
    assert (err.value.translation_domain, err.value.translation_key) == (DOMAIN, "unknown_media")
    assert err.value.translation_placeholders == {"media_id": media_id}
    assert state(hass).state != STATE_PLAYING


async def test_play_empty_playlist(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """An empty user playlist cannot be played."""
    empty = await create(hass, entry, "Empty")
    with pytest.raises(ServiceValidationError) as err:
        await play(hass, f"playlist:{empty}")
    assert (err.value.translation_domain, err.value.translation_key) == (DOMAIN, "empty_playlist")
    assert state(hass).state != STATE_PLAYING


async def test_play_media_source_file(
    hass: HomeAssistant, entry: MockConfigEntry, media_dir: Path
) -> None:
    """A file of HA's media folder plays through the box."""
    write_wav(media_dir / "sounds" / "bell.wav", 20.0)
    await play(hass, "media-source://media_source/local/sounds/bell.wav")
    assert state(hass).state == STATE_PLAYING
    assert state(hass).attributes["media_title"] == "bell"


async def test_play_missing_media_source_file(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A media-source id of a file that is not there is a translated error."""
    with pytest.raises(ServiceValidationError) as err:
        await play(hass, "media-source://media_source/local/no.wav")
    assert (err.value.translation_domain, err.value.translation_key) == (DOMAIN, "file_not_found")
    assert state(hass).state != STATE_PLAYING
