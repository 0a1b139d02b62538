"""Acknowledged means durable; a damaged stored file loses only its damaged part.

"On disk" in these tests: HA's test harness routes every Store write into the `hass_storage` dict
(`mock_storage`), so what is there is what the Store wrote; `real_files` lets the Store write real
files instead. No test lets time pass or stops Home Assistant before reading what was written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.components import tag
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir, storage
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.const import DOMAIN, STORAGE_VERSION
from custom_components.open_music_box.library import folder_playlist_id, track_id
from custom_components.open_music_box.storage import storage_issue_id

from .conftest import box_entry
from .helpers.persistence import set_up
from .helpers.room_flow import _reconfigure, _room, _start
from .helpers.rooms import (
    INTERNAL_URL,
    ROOM_ID,
    call,
    play_long,
    room_subentry,
    setup_room_entry,
    sync_library,
)
from .helpers.services import store_key
from .helpers.ws import Client
from .target_player import TARGET_ID, TargetPlayer, async_setup_target_platform

ANIMALS = folder_playlist_id("Animals")
AUDIOBOOK = folder_playlist_id("Audiobook")
DOG = track_id("Animals/01 Dog.wav")
COW = track_id("Animals/03 Cow.wav")
CHAPTER_2 = track_id("Audiobook/Chapter 2.wav")


def on_disk(hass_storage: dict[str, Any], entry: MockConfigEntry) -> dict[str, Any]:
    """Return what the Store last wrote for the box."""
    data: dict[str, Any] = hass_storage[store_key(entry)]["data"]
    return data


@pytest.fixture
def real_files(hass: HomeAssistant, tmp_path: Path) -> Generator[Path]:
    """Let every Store write its real file (HA's own writer) in a config folder of the test."""
    config_dir = hass.config.config_dir
    hass.config.config_dir = str(tmp_path / "config")

    async def write(store: storage.Store[Any], data: dict[str, Any]) -> None:
        await store.hass.async_add_executor_job(store._write_data, data)

    with patch.object(storage.Store, "_async_write_data", write):
        yield tmp_path / "config" / ".storage"
    hass.config.config_dir = config_dir


@asynccontextmanager
async def held_writes() -> AsyncIterator[tuple[asyncio.Event, asyncio.Event]]:
    """Hold every Store write at a gate the test opens (a slow disk); `waiting` once one is held.

    The writer under the gate is the test harness's (into `hass_storage`).
    """
    gate, waiting = asyncio.Event(), asyncio.Event()
    write = storage.Store._async_write_data

    async def slow_write(store: storage.Store[Any], data: dict[str, Any]) -> None:
        waiting.set()
        await gate.wait()
        await write(store, data)

    with patch.object(storage.Store, "_async_write_data", slow_write):
        try:
            yield gate, waiting
        finally:
            gate.set()  # never leave a write (and the test's teardown) waiting


async def test_websocket_edits_are_on_disk_when_acknowledged(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A playlist change, a tag link and a playlist mode are written before their answer."""
    admin = Client(await hass_ws_client(hass), entry.entry_id)
    fav = (await admin.ok("playlists/create", name="Fav", track_ids=[DOG]))["id"]
    assert on_disk(hass_storage, entry)["playlists"][fav]["track_ids"] == [DOG]

    await admin.ok("playlists/add_tracks", playlist_id=fav, track_ids=[COW])
    assert on_disk(hass_storage, entry)["playlists"][fav]["track_ids"] == [DOG, COW]

    await admin.ok("tags/link", tag_id="04-a1-b2", playlist_id=fav)
    assert on_disk(hass_storage, entry)["tags"]["04-a1-b2"]["playlist_id"] == fav

    await admin.ok("playlists/set_mode", playlist_id=AUDIOBOOK, mode="audiobook")
    assert on_disk(hass_storage, entry)["playlist_modes"] == {AUDIOBOOK: "audiobook"}

    # A repeat of an edit (client_op_id) answers once it is written too.
    await admin.ok("playlists/rename", playlist_id=fav, name="Best", client_op_id="op-1")
    await admin.ok("playlists/rename", playlist_id=fav, name="Best", client_op_id="op-1")
    assert on_disk(hass_storage, entry)["playlists"][fav]["name"] == "Best"


async def test_an_edit_of_the_box_options_is_answered_once_written(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """An edit kept in the box's options (HA's config entries) is answered once written."""
    admin = Client(await hass_ws_client(hass), entry.entry_id)
    async with held_writes() as (gate, waiting):
        answered = hass.async_create_task(
            admin.ok("children/set_refusal_sound", refusal_sound="none")
        )
        await waiting.wait()
        for _ in range(200):  # the old answer needed a few turns of the loop, no disk
            await asyncio.sleep(0)
        assert not answered.done()
        gate.set()
        await answered
    (stored,) = (
        stored
        for stored in hass_storage["core.config_entries"]["data"]["entries"]
        if stored["entry_id"] == entry.entry_id
    )
    assert stored["options"]["refusal_sound"] == "none"


async def test_edits_are_in_the_real_file_when_answered(
    hass: HomeAssistant, library: Path, real_files: Path, hass_ws_client: WebSocketGenerator
) -> None:
    """Through actions and commands, with HA's real file writer: the file holds the edit at once.

    Reading the file while Home Assistant runs is what a kill -9 right after the answer leaves:
    the process's memory is lost, the written file is not.
    """
    entry = box_entry(library)
    await set_up(hass, entry, library)
    path = Path(hass.config.path(".storage", f"{DOMAIN}.{entry.entry_id}"))
    assert path.parent == real_files

    async def read() -> dict[str, Any]:
        text = await hass.async_add_executor_job(path.read_text)
        data: dict[str, Any] = json.loads(text)["data"]
        return data

    created = await hass.services.async_call(
        DOMAIN,
        "create_playlist",
        {"config_entry_id": entry.entry_id, "name": "Bedtime", "track_ids": [COW]},
        blocking=True,
        return_response=True,
    )
    assert created is not None
    bedtime = str(created["id"])
    assert (await read())["playlists"][bedtime]["track_ids"] == [COW]

    await hass.services.async_call(
        DOMAIN,
        "link_tag",
        {"config_entry_id": entry.entry_id, "tag_id": "tag-7", "playlist_id": bedtime},
        blocking=True,
    )
    assert (await read())["tags"]["tag-7"] == {"playlist_id": bedtime, "target": "box"}

    await hass.services.async_call(
        DOMAIN,
        "set_playlist_mode",
        {"config_entry_id": entry.entry_id, "playlist_id": bedtime, "mode": "audiobook"},
        blocking=True,
    )
    assert (await read())["playlist_modes"] == {bedtime: "audiobook"}

    admin = Client(await hass_ws_client(hass), entry.entry_id)
    await admin.ok("playlists/add_tracks", playlist_id=bedtime, track_ids=[DOG], position=0)
    assert (await read())["playlists"][bedtime]["track_ids"] == [DOG, COW]
    await admin.ok("tags/unlink", tag_id="tag-7")
    assert (await read())["tags"] == {}
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_room_changes_are_on_disk_when_acknowledged(
    hass: HomeAssistant, tmp_path: Path, hass_storage: dict[str, Any]
) -> None:
    """A player joined (the room's subentry) and a room's volume (its state) are written at once."""
    await hass.config.async_update(internal_url=INTERNAL_URL)
    add = await async_setup_target_platform(hass)
    add([TargetPlayer()])
    await hass.async_block_till_done()
    entry = await setup_room_entry(
        hass, sync_library(tmp_path / "library"), room_subentry(local=[("null", 0.0)])
    )

    await call(hass, "join", {"group_members": [TARGET_ID]})
    (stored,) = (
        stored
        for stored in hass_storage["core.config_entries"]["data"]["entries"]
        if stored["entry_id"] == entry.entry_id
    )
    (room,) = stored["subentries"]
    assert room["data"]["entity_members"] == [{"entity_id": TARGET_ID, "offset_ms": 0.0}]

    await play_long(hass, entry)
    await call(hass, "volume_set", {"volume_level": 0.3})
    assert on_disk(hass_storage, entry)["rooms"][ROOM_ID]["volume"] == 0.3
    await call(hass, "repeat_set", {"repeat": "all"})
    assert on_disk(hass_storage, entry)["rooms"][ROOM_ID]["repeat"] == "all"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_room_answers_once_its_change_is_written(
    hass: HomeAssistant, tmp_path: Path, hass_storage: dict[str, Any]
) -> None:
    """A slow disk: the room's volume action is answered only after the write is done.

    Writes wait at a gate the test opens. Without waiting for the write, the action answers
    while the volume is still only in memory (what a kill -9 at that moment loses).
    """
    await hass.config.async_update(internal_url=INTERNAL_URL)
    entry = await setup_room_entry(
        hass, sync_library(tmp_path / "library"), room_subentry(local=[("null", 0.0)])
    )
    await play_long(hass, entry)
    async with held_writes() as (gate, waiting):
        answered = hass.async_create_task(call(hass, "volume_set", {"volume_level": 0.3}))
        await waiting.wait()
        for _ in range(50):  # the old answer needed a few turns of the loop, no disk
            await asyncio.sleep(0)
        assert not answered.done()
        assert on_disk(hass_storage, entry)["rooms"][ROOM_ID]["volume"] != 0.3
        gate.set()
        await answered
    assert on_disk(hass_storage, entry)["rooms"][ROOM_ID]["volume"] == 0.3
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_tag_linked_by_a_scan_is_on_disk_at_once(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """An association session's scan is no command, yet its link is written without the delay."""
    assert await async_setup_component(hass, "tag", {})
    await hass.services.async_call(
        DOMAIN,
        "associate_tag",
        {"config_entry_id": entry.entry_id, "playlist_id": ANIMALS},
        blocking=True,
        return_response=True,
    )
    await tag.async_scan_tag(hass, "tag-9", None)
    await hass.async_block_till_done()  # runs what the scan started; no timer fires
    assert on_disk(hass_storage, entry)["tags"]["tag-9"] == {
        "playlist_id": ANIMALS,
        "target": "box",
    }


def stored_rooms(hass_storage: dict[str, Any], entry: MockConfigEntry) -> dict[str, str]:
    """Return the rooms (subentry id: title) that HA's config entries file holds for the box."""
    (stored,) = (
        stored
        for stored in hass_storage["core.config_entries"]["data"]["entries"]
        if stored["entry_id"] == entry.entry_id
    )
    return {room["subentry_id"]: room["title"] for room in stored["subentries"]}


async def test_rooms_added_and_reconfigured_in_the_flow_are_on_disk_at_once(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """The flow's last answer comes after HA's config entries are written (no delay)."""
    flow = await _start(hass, entry)
    done = await hass.config_entries.subentries.async_configure(flow["flow_id"], _room("Garden"))
    ((room_id, title),) = stored_rooms(hass_storage, entry).items()
    assert title == "Garden"
    await hass.async_block_till_done()  # the new room reloads the box

    flow = await _reconfigure(hass, entry, room_id)
    done = await hass.config_entries.subentries.async_configure(flow["flow_id"], _room("Patio"))
    assert done["reason"] == "reconfigure_successful"
    assert stored_rooms(hass_storage, entry) == {room_id: "Patio"}
    await hass.async_block_till_done()


# Damaged files ---------------------------------------------------------------------------------


def good_data() -> dict[str, Any]:
    """A file with something in every section."""
    return {
        "playlists": {
            "ufav": {"name": "Fav", "track_ids": [DOG, COW], "seq": 2},
            "ukeep": {"name": "Keep", "track_ids": [COW]},
        },
        "hub": {"seq_reserved": 3000},
        "tags": {
            "tag-a": {"playlist_id": "ufav", "target": "box"},
            "tag-b": {"playlist_id": ANIMALS, "target": "box", "shuffle": True},
        },
        "playlist_modes": {AUDIOBOOK: "audiobook"},
        "resume_points": {AUDIOBOOK: {"track_id": CHAPTER_2, "position": 12.5}},
        "rooms": {
            "room9": {
                "track_ids": [DOG, COW],
                "order": [1, 0],
                "pos": 0,
                "position": 3.0,
                "playlist_id": None,
                "shuffle": True,
                "repeat": "off",
                "volume": 0.4,
                "muted": False,
            }
        },
        "last_playlist": {"playlist_id": ANIMALS},
    }


def playlists_oops(data: dict[str, Any]) -> None:
    data["playlists"] = "oops"


def link_without_target(data: dict[str, Any]) -> None:
    del data["tags"]["tag-a"]["target"]


def seq_not_a_number(data: dict[str, Any]) -> None:
    data["hub"]["seq_reserved"] = "abc"


def room_without_volume(data: dict[str, Any]) -> None:
    del data["rooms"]["room9"]["volume"]


def last_playlist_not_an_id(data: dict[str, Any]) -> None:
    data["last_playlist"] = {"playlist_id": 3}


# (damage, the sections it leaves as they were, what the issue says was lost)
DAMAGES = [
    (
        playlists_oops,
        ["hub", "tags", "playlist_modes", "resume_points", "rooms", "last_playlist"],
        "playlists: all",
    ),
    (
        link_without_target,
        ["playlists", "hub", "playlist_modes", "resume_points", "rooms", "last_playlist"],
        "tags: 1 of 2",
    ),
    (
        seq_not_a_number,
        ["playlists", "tags", "playlist_modes", "resume_points", "rooms", "last_playlist"],
        "hub: the event sequence reservation",
    ),
    (
        room_without_volume,
        ["playlists", "hub", "tags", "playlist_modes", "resume_points", "last_playlist"],
        "rooms: 1 of 1",
    ),
    (
        last_playlist_not_an_id,
        ["playlists", "hub", "tags", "playlist_modes", "resume_points", "rooms"],
        "last_playlist: all",
    ),
]


@pytest.mark.parametrize("case", DAMAGES, ids=[damage.__name__ for damage, _, _ in DAMAGES])
async def test_a_damaged_section_is_dropped_alone(
    hass: HomeAssistant,
    library: Path,
    hass_storage: dict[str, Any],
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
    *,
    case: tuple[Callable[[dict[str, Any]], None], list[str], str],
) -> None:
    """The box starts, keeps every other section, warns once and raises a repair issue."""
    damage, intact, lost = case
    entry = box_entry(library)
    data = good_data()
    damage(data)
    hass_storage[store_key(entry)] = {"version": STORAGE_VERSION, "minor_version": 1, "data": data}
    caplog.set_level(logging.WARNING)

    await set_up(hass, entry, library)

    assert entry.state is ConfigEntryState.LOADED
    box = entry.runtime_data
    for section in intact:
        if section != "hub":  # the hub reserves the next block at once
            assert box.store.data[section] == good_data()[section], section
    assert box.events.seq == (3000 if "hub" in intact else 0)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, storage_issue_id(entry.entry_id))
    assert issue is not None
    assert issue.translation_key == "storage_repaired"
    assert issue.translation_placeholders == {"name": entry.title, "lost": lost}
    warnings = [r for r in caplog.records if "was damaged" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    # The repaired data replaced the damaged file.
    assert on_disk(hass_storage, entry)["playlists"] == box.store.data["playlists"]

    admin = Client(await hass_ws_client(hass), entry.entry_id)
    listed = {p["id"] for p in (await admin.ok("playlists/list"))["playlists"]}
    assert ANIMALS in listed
    assert ("ufav" in listed) is ("playlists" in intact)
    tags = {t["tag_id"] for t in (await admin.ok("tags/list"))["tags"]}
    assert "tag-b" in tags
    assert ("tag-a" in tags) is (link_without_target is not damage)
    feed = await admin.feed()
    assert [event["type"] for event in feed.events] == ["snapshot"]
    created = await admin.ok("playlists/create", name="After")  # edits work and are written
    assert await feed.of_type(created["seq"], "playlists")
    assert any(p["name"] == "After" for p in on_disk(hass_storage, entry)["playlists"].values())
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    "content",
    [{"version": STORAGE_VERSION, "data": ["oops"]}, {"version": STORAGE_VERSION}],
    ids=["data_is_a_list", "no_data"],
)
async def test_a_file_with_nothing_readable_starts_empty(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any], content: dict[str, Any]
) -> None:
    """Nothing readable at all: the box still starts (empty) and says everything was lost."""
    entry = box_entry(library)
    hass_storage[store_key(entry)] = content
    await set_up(hass, entry, library)
    assert entry.state is ConfigEntryState.LOADED
    issue = ir.async_get(hass).async_get_issue(DOMAIN, storage_issue_id(entry.entry_id))
    assert issue is not None
    assert issue.translation_placeholders["lost"].startswith("everything")
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_clean_file_raises_no_issue(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """Every section as written: loaded as it is, no issue."""
    entry = box_entry(library)
    hass_storage[store_key(entry)] = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "data": good_data(),
    }
    await set_up(hass, entry, library)
    assert entry.runtime_data.store.data["tags"] == good_data()["tags"]
    assert entry.runtime_data.store.data["rooms"] == good_data()["rooms"]
    assert ir.async_get(hass).async_get_issue(DOMAIN, storage_issue_id(entry.entry_id)) is None
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_file_of_a_newer_version_is_left_untouched(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """A downgrade: the box does not start (translated error) and never overwrites the file."""
    entry = box_entry(library)
    newer = {"version": STORAGE_VERSION + 1, "minor_version": 1, "data": {"playlists": {}}}
    hass_storage[store_key(entry)] = json.loads(json.dumps(newer))
    hass.config.allowlist_external_dirs = {str(library.parent)}
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "newer version" in entry.reason
    assert hass_storage[store_key(entry)] == newer
