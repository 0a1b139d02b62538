"""The box's actions (services): playlists, edits, rescan, errors; real HA, real libmpv."""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

import json
from pathlib import Path
import shutil
from typing import Any

from homeassistant.config_entries import ConfigEntryState
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
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
import voluptuous as vol

from custom_components.open_music_box.api.validation import MAX_TRACKS_PER_CALL
from custom_components.open_music_box.const import DOMAIN, LIBRARY_CHECK_INTERVAL_SECONDS
from custom_components.open_music_box.library import folder_playlist_id, m3u_playlist_id

from .audio import make_track, write_wav
from .conftest import build_library
from .helpers.player import play, state
from .helpers.services import (
    ALL_SERVICES,
    ANIMALS,
    AUDIOBOOK,
    COMPONENT,
    MIX,
    act,
    ask,
    browse,
    call,
    child_titles,
    create,
    everything,
    flush_saves,
    library_issue,
    media_dir,  # noqa: F401 (fixtures)
    move,
    playlist,
    playlists,
    store_key,
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


# Creating and editing ------------------------------------------------------------------------


async def test_create_playlist(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A new user playlist is listed, browsable and playable."""
    ids = await track_ids(hass, entry)
    created = await ask(
        hass,
        entry,
        "create_playlist",
        name="  Favourites ",
        track_ids=[ids["Chapter 1"], ids["Dog"], ids["Chapter 1"]],
    )
    user_id = created["id"]
    assert created == {
        "id": user_id,
        "name": "Favourites",  # trimmed
        "kind": "user",
        "read_only": False,
        "track_count": 3,
        "mode": "album",
    }
    names = [p["name"] for p in await playlists(hass, entry)]
    assert names == ["Animals", "Audiobook", "Favourites", "Mix"]
    assert await titles(hass, entry, user_id) == ["Chapter 1", "Dog", "Chapter 1"]

    root = await browse(hass, hass_ws_client)
    assert child_titles(root)[:4] == names
    listed = root["result"]["children"][2]
    assert (listed["media_content_id"], listed["can_play"], listed["can_expand"]) == (
        f"playlist:{user_id}",
        True,
        True,
    )
    opened = await browse(hass, hass_ws_client, f"playlist:{user_id}")
    assert child_titles(opened) == ["Chapter 1", "Dog", "Chapter 1"]
    assert [c["media_content_id"] for c in opened["result"]["children"]] == [
        f"track:{ids['Chapter 1']}",
        f"track:{ids['Dog']}",
        f"track:{ids['Chapter 1']}",
    ]

    await play(hass, f"playlist:{user_id}")
    assert state(hass).state == STATE_PLAYING
    assert state(hass).attributes["media_playlist"] == "Favourites"
    assert state(hass).attributes["media_title"] == "Chapter 1"


async def test_create_playlist_without_response(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Asked for no response, create_playlist answers nothing; an empty playlist is fine."""
    assert await call(hass, entry.entry_id, "create_playlist", {"name": "Empty"}) is None
    empty = [p for p in await playlists(hass, entry) if p["name"] == "Empty"]
    assert [(p["kind"], p["track_count"]) for p in empty] == [("user", 0)]
    assert (await playlist(hass, entry, empty[0]["id"]))["tracks"] == []


async def test_longest_name_is_accepted(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """100 characters is the limit, inclusive."""
    created = await ask(hass, entry, "create_playlist", name="n" * 100)
    assert created["name"] == "n" * 100


async def test_rename_playlist(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A rename moves the playlist in the sorted list and shows on the entity at once."""
    ids = await track_ids(hass, entry)
    user_id = await create(hass, entry, "aaa", ids["Chapter 2"])
    await play(hass, f"playlist:{user_id}")
    assert state(hass).attributes["media_playlist"] == "aaa"

    await act(hass, entry, "rename_playlist", playlist_id=user_id, name=" zoo ")

    names = ["Animals", "Audiobook", "Mix", "zoo"]  # case-insensitive order
    assert [p["name"] for p in await playlists(hass, entry)] == names
    assert (await playlist(hass, entry, user_id))["name"] == "zoo"
    assert state(hass).attributes["media_playlist"] == "zoo"
    assert child_titles(await browse(hass, hass_ws_client))[:4] == names


async def test_delete_playlist(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A deleted playlist is gone everywhere: list, get, browse, play."""
    ids = await track_ids(hass, entry)
    user_id = await create(hass, entry, "Gone", ids["Dog"])
    await act(hass, entry, "delete_playlist", playlist_id=user_id)

    assert [p["id"] for p in await playlists(hass, entry)] == [ANIMALS, AUDIOBOOK, MIX]
    with pytest.raises(ServiceValidationError) as err:
        await playlist(hass, entry, user_id)
    assert err.value.translation_key == "unknown_playlist"
    assert user_id in str(err.value)  # the translated message names it
    assert not (await browse(hass, hass_ws_client, f"playlist:{user_id}"))["success"]
    with pytest.raises(ServiceValidationError) as err:
        await play(hass, f"playlist:{user_id}")
    assert err.value.translation_key == "unknown_media"
    assert await titles(hass, entry, ANIMALS) == ["Dog", "Cat", "Cow"]  # the tracks stay


async def test_add_tracks(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Tracks go to the end, or before `position` (past the end means the end)."""
    ids = await track_ids(hass, entry)
    user_id = await create(hass, entry, "Mine", ids["Dog"])

    await act(hass, entry, "add_tracks", playlist_id=user_id, track_ids=[ids["Cat"]])
    assert await titles(hass, entry, user_id) == ["Dog", "Cat"]
    first = [ids["Chapter 2"]]  # a list, as over the WebSocket API (one schema for both)
    await act(hass, entry, "add_tracks", playlist_id=user_id, track_ids=first, position=0)
    assert await titles(hass, entry, user_id) == ["Chapter 2", "Dog", "Cat"]
    both = [ids["Chapter 1"], ids["Dog"]]
    await act(hass, entry, "add_tracks", playlist_id=user_id, track_ids=both, position=2)
    assert await titles(hass, entry, user_id) == ["Chapter 2", "Dog", "Chapter 1", "Dog", "Cat"]
    last = [ids["Cow"]]
    await act(hass, entry, "add_tracks", playlist_id=user_id, track_ids=last, position=99)

    expected = ["Chapter 2", "Dog", "Chapter 1", "Dog", "Cat", "Cow"]
    assert await titles(hass, entry, user_id) == expected
    assert (await playlist(hass, entry, user_id))["track_count"] == 6
    assert child_titles(await browse(hass, hass_ws_client, f"playlist:{user_id}")) == expected
    await play(hass, f"playlist:{user_id}")
    assert state(hass).attributes["media_title"] == "Chapter 2"


async def test_remove_tracks(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Every occurrence of each given track goes."""
    ids = await track_ids(hass, entry)
    dog, cat, cow = ids["Dog"], ids["Cat"], ids["Cow"]
    user_id = await create(hass, entry, "M", dog, cat, dog, cow, cat)

    await act(hass, entry, "remove_tracks", playlist_id=user_id, track_ids=[dog])
    assert await titles(hass, entry, user_id) == ["Cat", "Cow", "Cat"]
    await act(hass, entry, "remove_tracks", playlist_id=user_id, track_ids=[cat, cow])
    emptied = await playlist(hass, entry, user_id)
    assert emptied.pop("playlist_seq") == 2
    assert emptied == {
        "id": user_id,
        "name": "M",
        "kind": "user",
        "read_only": False,
        "track_count": 0,
        "mode": "album",
        "track_ids": [],
        "tracks": [],
    }


async def test_reorder_playlist(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A permutation of the entries (repeats included) becomes the new order."""
    ids = await track_ids(hass, entry)
    dog, cat, book = ids["Dog"], ids["Cat"], ids["Chapter 2"]
    user_id = await create(hass, entry, "M", dog, cat, dog, book)

    await act(hass, entry, "reorder_playlist", playlist_id=user_id, track_ids=[book, dog, dog, cat])

    assert await titles(hass, entry, user_id) == ["Chapter 2", "Dog", "Dog", "Cat"]
    opened = await browse(hass, hass_ws_client, f"playlist:{user_id}")
    assert child_titles(opened) == ["Chapter 2", "Dog", "Dog", "Cat"]
    await play(hass, f"playlist:{user_id}")
    assert state(hass).attributes["media_title"] == "Chapter 2"


async def test_move_track(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """move_track takes the first occurrence out of one user playlist into another."""
    ids = await track_ids(hass, entry)
    dog, cat, cow, ch1 = ids["Dog"], ids["Cat"], ids["Cow"], ids["Chapter 1"]
    one = await create(hass, entry, "One", dog, cat, dog)
    two = await create(hass, entry, "Two", cow, ch1)

    await move(hass, entry, one, two, dog)
    assert await titles(hass, entry, one) == ["Cat", "Dog"]
    assert await titles(hass, entry, two) == ["Cow", "Chapter 1", "Dog"]

    await move(hass, entry, one, two, cat, position=1)
    assert await titles(hass, entry, one) == ["Dog"]
    assert await titles(hass, entry, two) == ["Cow", "Cat", "Chapter 1", "Dog"]

    await move(hass, entry, two, two, ch1, position=0)  # within one playlist: a move in place
    assert await titles(hass, entry, two) == ["Chapter 1", "Cow", "Cat", "Dog"]

    counts = {p["name"]: p["track_count"] for p in await playlists(hass, entry)}
    assert (counts["One"], counts["Two"]) == (1, 4)
    await play(hass, f"playlist:{two}")
    assert state(hass).attributes["media_title"] == "Chapter 1"


async def test_user_playlist_keeps_entries_of_vanished_files(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """A file deleted from disk drops out of the tracks, not out of the stored playlist."""
    ids = await track_ids(hass, entry)
    only = await create(hass, entry, "Only", ids["Cat"])
    (library / "Animals" / "02 Cat.wav").unlink()
    await act(hass, entry, "rescan")

    gone = await playlist(hass, entry, only)
    assert (gone["track_count"], gone["tracks"]) == (1, [])
    with pytest.raises(ServiceValidationError) as err:
        await play(hass, f"playlist:{only}")
    assert err.value.translation_key == "empty_playlist"

    make_track(library / "Animals" / "02 Cat.wav", 1.0, title="Cat", artist="Kids", track=2)
    await act(hass, entry, "rescan")
    assert await titles(hass, entry, only) == ["Cat"]  # same path, same id: it is back


# Bad input ---------------------------------------------------------------------------------

type Ids = dict[str, str]


@pytest.fixture
async def ids(hass: HomeAssistant, entry: MockConfigEntry) -> Ids:
    """Two user playlists ("one": Dog Cat Dog, "two": empty) and ids to build calls with."""
    tracks = await track_ids(hass, entry)
    dog, cat, cow = tracks["Dog"], tracks["Cat"], tracks["Cow"]
    return {
        "one": await create(hass, entry, "One", dog, cat, dog),
        "two": await create(hass, entry, "Two"),
        "folder": ANIMALS,
        "m3u": MIX,
        "dog": dog,
        "cat": cat,
        "cow": cow,
    }


def resolve(data: dict[str, Any], ids: Ids) -> dict[str, Any]:
    """Replace "@name" strings (alone or in lists) by the id of that name."""

    def one(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("@"):
            return ids[value[1:]]
        return [one(item) for item in value] if isinstance(value, list) else value

    return {key: one(value) for key, value in data.items()}


def moving(source: str, target: str, track: str | None = None, **extra: Any) -> dict[str, Any]:
    """Data of a move_track call."""
    data = {"source_playlist_id": source, "target_playlist_id": target, **extra}
    return data if track is None else data | {"track_id": track}


BAD_INPUT: list[tuple[str, dict[str, Any], str]] = [
    ("get_playlist", {"playlist_id": "nope"}, "unknown_playlist"),
    ("rename_playlist", {"playlist_id": "nope", "name": "x"}, "unknown_playlist"),
    ("delete_playlist", {"playlist_id": "nope"}, "unknown_playlist"),
    ("add_tracks", {"playlist_id": "nope", "track_ids": ["@dog"]}, "unknown_playlist"),
    ("remove_tracks", {"playlist_id": "nope", "track_ids": ["@dog"]}, "unknown_playlist"),
    ("reorder_playlist", {"playlist_id": "nope", "track_ids": []}, "unknown_playlist"),
    ("move_track", moving("nope", "@one", "@dog"), "unknown_playlist"),
    ("move_track", moving("@one", "nope", "@dog"), "unknown_playlist"),
    ("create_playlist", {"name": "New", "track_ids": ["@dog", "tnope"]}, "unknown_track"),
    ("add_tracks", {"playlist_id": "@one", "track_ids": ["@cow", "tnope"]}, "unknown_track"),
    ("rename_playlist", {"playlist_id": "@folder", "name": "x"}, "read_only_playlist"),
    ("rename_playlist", {"playlist_id": "@m3u", "name": "x"}, "read_only_playlist"),
    ("delete_playlist", {"playlist_id": "@folder"}, "read_only_playlist"),
    ("delete_playlist", {"playlist_id": "@m3u"}, "read_only_playlist"),
    ("add_tracks", {"playlist_id": "@folder", "track_ids": ["@cow"]}, "read_only_playlist"),
    ("remove_tracks", {"playlist_id": "@m3u", "track_ids": ["@cow"]}, "read_only_playlist"),
    (
        "reorder_playlist",
        {"playlist_id": "@folder", "track_ids": ["@cow", "@cat", "@dog"]},
        "read_only_playlist",
    ),
    ("move_track", moving("@folder", "@one", "@cow"), "read_only_playlist"),
    ("move_track", moving("@one", "@m3u", "@dog"), "read_only_playlist"),
    ("create_playlist", {"name": "   "}, "invalid_playlist_name"),
    ("rename_playlist", {"playlist_id": "@one", "name": " \t "}, "invalid_playlist_name"),
    ("create_playlist", {"name": ""}, "invalid_playlist_name"),
    ("create_playlist", {"name": "x" * 101}, "invalid_playlist_name"),
    ("rename_playlist", {"playlist_id": "@one", "name": ""}, "invalid_playlist_name"),
    ("rename_playlist", {"playlist_id": "@one", "name": "y" * 101}, "invalid_playlist_name"),
    (
        "reorder_playlist",
        {"playlist_id": "@one", "track_ids": ["@cat", "@dog"]},
        "not_a_permutation",
    ),
    (
        "reorder_playlist",
        {"playlist_id": "@one", "track_ids": ["@cat", "@dog", "@dog", "@dog"]},
        "not_a_permutation",
    ),
    (
        "reorder_playlist",
        {"playlist_id": "@one", "track_ids": ["@cat", "@cat", "@dog"]},
        "not_a_permutation",
    ),
    (
        "remove_tracks",
        {"playlist_id": "@one", "track_ids": ["@dog", "@cow"]},
        "track_not_in_playlist",
    ),
    ("move_track", moving("@one", "@two", "@cow"), "track_not_in_playlist"),
]


@pytest.mark.parametrize(("service", "data", "key"), BAD_INPUT)
async def test_bad_input_changes_nothing(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    ids: Ids,
    *,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    """Each mistake is a translated validation error, and no playlist changes or is saved."""
    await flush_saves(hass)
    saved = hass_storage.pop(store_key(entry))
    assert saved["data"]["playlists"].keys() == {ids["one"], ids["two"]}  # written
    before = await everything(hass, entry)

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, entry.entry_id, service, resolve(data, ids))

    assert (err.value.translation_domain, err.value.translation_key) == (DOMAIN, key)
    assert str(err.value) not in ("", key)  # the English message, not the bare key
    assert await everything(hass, entry) == before
    await flush_saves(hass)
    assert store_key(entry) not in hass_storage  # no save was even scheduled


TOO_MANY = MAX_TRACKS_PER_CALL + 1
SCHEMA_REJECTS: list[tuple[str, dict[str, Any]]] = [
    ("create_playlist", {"name": ["a", "b"]}),
    ("create_playlist", {}),
    ("create_playlist", {"name": "Big", "track_ids": ["@dog"] * TOO_MANY}),
    ("create_playlist", {"name": "Long id", "track_ids": ["t" * 65]}),
    ("create_playlist", {"name": "Empty id", "track_ids": [""]}),
    ("rename_playlist", {"playlist_id": "@one"}),
    ("get_playlist", {}),
    ("get_playlist", {"playlist_id": ""}),
    ("add_tracks", {"playlist_id": "@one", "track_ids": ["@dog"], "position": -1}),
    ("add_tracks", {"playlist_id": "@one", "track_ids": ["@dog"], "position": "first"}),
    ("add_tracks", {"playlist_id": "@one"}),
    ("remove_tracks", {"playlist_id": "@one", "track_ids": ["@dog"], "extra": 1}),
    ("reorder_playlist", {"playlist_id": "@one", "track_ids": ["@dog"] * TOO_MANY}),
    ("move_track", moving("@one", "@two")),
    ("move_track", moving("@one", "@two", "@dog", position=-2)),
]


@pytest.mark.parametrize(("service", "data"), SCHEMA_REJECTS)
async def test_schema_rejects(
    hass: HomeAssistant, entry: MockConfigEntry, ids: Ids, service: str, data: dict[str, Any]
) -> None:
    """Malformed calls never reach the box: voluptuous rejects them, nothing changes."""
    before = await everything(hass, entry)
    with pytest.raises(vol.Invalid):
        await call(hass, entry.entry_id, service, resolve(data, ids))
    assert await everything(hass, entry) == before


def _fields(hass: HomeAssistant, service: str) -> set[str]:
    """Return the field names an action's schema knows."""
    schema = hass.services.async_services_for_domain(DOMAIN)[service].schema
    assert isinstance(schema, vol.Schema)
    return {str(key) for key in schema.schema}


@pytest.mark.parametrize("service", ALL_SERVICES)
async def test_unknown_entry(hass: HomeAssistant, entry: MockConfigEntry, service: str) -> None:
    """An entry id that is not a music box is refused by every action."""
    other = MockConfigEntry(domain="other_domain", title="Other")
    other.add_to_hass(hass)
    valid = {
        "playlist_id": ANIMALS,
        "name": "x",
        "track_ids": [],
        "source_playlist_id": ANIMALS,
        "target_playlist_id": ANIMALS,
        "track_id": "t1",
    }
    data = {k: v for k, v in valid.items() if k in _fields(hass, service)}
    for entry_id in ("no_such_entry", other.entry_id):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, entry_id, service, data)
        assert (err.value.translation_domain, err.value.translation_key) == (
            DOMAIN,
            "entry_not_found",
        )
        assert err.value.translation_placeholders == {"entry_id": entry_id}


async def test_entry_not_loaded(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A box that is not loaded answers no action (the actions stay registered)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    for service, data in (("list_playlists", {}), ("create_playlist", {"name": "x"})):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, entry.entry_id, service, data)
        assert err.value.translation_key == "entry_not_loaded"
        assert err.value.translation_placeholders == {"name": "Music Box"}

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert len(await playlists(hass, entry)) == 3


def test_error_keys_are_translated() -> None:
    """Every error the actions and play_media raise has a message (en, fr) with its fields."""
    placeholders = {
        "entry_not_found": {"entry_id"},
        "entry_not_loaded": {"name"},
        "unknown_playlist": {"playlist_id"},
        "unknown_track": {"track_id"},
        "read_only_playlist": {"name"},
        "invalid_playlist_name": {"max"},
        "not_a_permutation": set(),
        "track_not_in_playlist": {"track_id"},
        "unknown_media": {"media_id"},
        "empty_playlist": {"media_id"},
        "file_not_found": {"path"},
    }
    for name in ("strings.json", "translations/en.json", "translations/fr.json"):
        strings = json.loads((COMPONENT / name).read_text("utf-8"))
        exceptions = strings.get("exceptions", {})
        for key, fields in placeholders.items():
            assert key in exceptions, f"{name}: exceptions.{key} is missing"
            message = exceptions[key]["message"]
            for field in fields:
                assert f"{{{field}}}" in message, f"{name}: {key} does not show {{{field}}}"
        issue = strings.get("issues", {}).get("library_missing")
        assert issue is not None, f"{name}: issues.library_missing is missing"
        assert "{path}" in issue["description"]


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
