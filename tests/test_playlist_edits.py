"""The box's actions (services) that create and edit playlists.

Real HA core, real libmpv (ao=null).
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.const import (
    STATE_PLAYING,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from .audio import make_track
from .helpers.player import play, state
from .helpers.services import (
    ANIMALS,
    AUDIOBOOK,
    MIX,
    act,
    ask,
    browse,
    call,
    child_titles,
    create,
    media_dir,  # noqa: F401 (fixtures)
    move,
    playlist,
    playlists,
    titles,
    track_ids,
)

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
