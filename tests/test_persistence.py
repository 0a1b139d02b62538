"""User playlists persist (helpers.storage.Store): written when acknowledged, read at restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.const import STATE_PLAYING
from homeassistant.core import HomeAssistant
from homeassistant.loader import DATA_CUSTOM_COMPONENTS
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.open_music_box.const import (
    DOMAIN,
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
)
from custom_components.open_music_box.library import track_id
from custom_components.open_music_box.storage import SAVE_DELAY_SECONDS

from .conftest import box_entry
from .helpers.persistence import set_up
from .helpers.player import play, state
from .helpers.services import (
    act,
    create,
    everything,
    flush_saves,
    move,
    playlists,
    store_key,
    tick,
    titles,
    track_ids,
)


def stored_playlists(storage: dict[str, Any], entry: MockConfigEntry) -> dict[str, Any]:
    """Return the user playlists in a box's file: name and track ids (other fields may follow)."""
    playlists = storage.get(store_key(entry), {}).get("data", {}).get("playlists", {})
    return {
        pid: {"name": stored["name"], "track_ids": stored["track_ids"]}
        for pid, stored in playlists.items()
    }


def same_entry(entry: MockConfigEntry) -> MockConfigEntry:
    """The same config entry, as the next start of Home Assistant reads it."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=entry.entry_id,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options=dict(entry.options),
    )


async def test_saved_when_acknowledged(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """An edit is written before its action returns, versioned, with exactly the playlists."""
    ids = await track_ids(hass, entry)
    fav = await create(hass, entry, "Fav", ids["Dog"], ids["Cat"])

    stored = hass_storage[store_key(entry)]
    assert (stored["version"], stored["minor_version"], stored["key"]) == (
        STORAGE_VERSION,
        STORAGE_MINOR_VERSION,
        store_key(entry),
    )
    assert stored_playlists(hass_storage, entry) == {
        fav: {"name": "Fav", "track_ids": [ids["Dog"], ids["Cat"]]}
    }

    await act(hass, entry, "rename_playlist", playlist_id=fav, name="Best")
    assert stored_playlists(hass_storage, entry)[fav]["name"] == "Best"


async def test_burst_of_edits_saved_at_stop(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Edits still waiting for their delayed save are written when HA stops (final write)."""
    ids = await track_ids(hass, entry)
    one = await create(hass, entry, "One")
    two = await create(hass, entry, "Two")
    await act(hass, entry, "add_tracks", playlist_id=one, track_ids=[ids["Cow"]])
    await act(hass, entry, "delete_playlist", playlist_id=two)

    await flush_saves(hass)

    assert stored_playlists(hass_storage, entry) == {
        one: {"name": "One", "track_ids": [ids["Cow"]]}
    }


async def test_stored_playlists_are_loaded(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """A box starts with what its file holds; ids of files gone from disk are kept, not shown."""
    entry = box_entry(library)
    cow, dog = track_id("Animals/03 Cow.wav"), track_id("Animals/01 Dog.wav")
    hass_storage[store_key(entry)] = {
        "version": STORAGE_VERSION,
        "minor_version": STORAGE_MINOR_VERSION,
        "key": store_key(entry),
        "data": {"playlists": {"ukept": {"name": "Kept", "track_ids": [cow, "tgone", dog]}}},
    }
    await set_up(hass, entry, library)

    kept = [p for p in await playlists(hass, entry) if p["id"] == "ukept"]
    assert kept == [
        {
            "id": "ukept",
            "name": "Kept",
            "kind": "user",
            "read_only": False,
            "track_count": 3,
            "mode": "album",
        }
    ]
    assert await titles(hass, entry, "ukept") == ["Cow", "Dog"]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_playlists_survive_a_restart(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """Stop Home Assistant right after editing; the next start has the same playlists."""
    entry = box_entry(library)
    await set_up(hass, entry, library)
    ids = await track_ids(hass, entry)
    fav = await create(hass, entry, "Fav", ids["Cow"], ids["Dog"], ids["Cow"])
    book = await create(hass, entry, "Book", ids["Chapter 2"])
    await act(hass, entry, "rename_playlist", playlist_id=book, name="Bedtime")
    await act(hass, entry, "add_tracks", playlist_id=book, track_ids=[ids["Chapter 1"]], position=0)
    await move(hass, entry, fav, book, ids["Dog"])
    before = await everything(hass, entry)

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_stop(force=True)

    assert stored_playlists(hass_storage, entry) == {
        fav: {"name": "Fav", "track_ids": [ids["Cow"], ids["Cow"]]},
        book: {"name": "Bedtime", "track_ids": [ids["Chapter 1"], ids["Chapter 2"], ids["Dog"]]},
    }

    # A second Home Assistant reads the same storage (hass_storage outlives both instances).
    async with async_test_home_assistant(config_dir=hass.config.config_dir) as restarted:
        restarted.data.pop(DATA_CUSTOM_COMPONENTS)
        again = same_entry(entry)
        await set_up(restarted, again, library)

        assert await everything(restarted, again) == before
        assert await titles(restarted, again, book) == ["Chapter 1", "Chapter 2", "Dog"]
        await play(restarted, f"playlist:{book}")
        assert state(restarted).state == STATE_PLAYING
        assert state(restarted).attributes["media_playlist"] == "Bedtime"

        assert await restarted.config_entries.async_unload(again.entry_id)
        await restarted.async_stop(force=True)


async def test_reload_keeps_recent_edits(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """A reload right after an edit (its save still delayed) loses nothing."""
    ids = await track_ids(hass, entry)
    fresh = await create(hass, entry, "Fresh", ids["Cat"])

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert await titles(hass, entry, fresh) == ["Cat"]
    await act(hass, entry, "rename_playlist", playlist_id=fresh, name="Still here")
    await flush_saves(hass)
    assert stored_playlists(hass_storage, entry) == {
        fresh: {"name": "Still here", "track_ids": [ids["Cat"]]}
    }


async def test_removing_the_entry_deletes_its_file(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """Removing a box deletes its stored playlists, also an edit whose save was pending."""
    entry = box_entry(library)
    await set_up(hass, entry, library)
    await create(hass, entry, "Saved")
    await flush_saves(hass)
    assert store_key(entry) in hass_storage
    await create(hass, entry, "Pending")

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert store_key(entry) not in hass_storage

    await tick(hass, SAVE_DELAY_SECONDS + 1)
    await flush_saves(hass)
    assert store_key(entry) not in hass_storage  # no late save brings it back

    # A new box on the same folder starts with no user playlists.
    new = box_entry(library)
    await set_up(hass, new, library)
    assert [p["kind"] for p in await playlists(hass, new)] == ["folder", "folder", "m3u"]
    assert await hass.config_entries.async_unload(new.entry_id)
