"""What the one table of operations guarantees both ways in: names and numbers checked alike,
an acknowledged edit already on disk, rescans merged. Real HA core, real libmpv (ao=null).
"""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
import voluptuous as vol

from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.library import track_id

from .helpers.services import ANIMALS, store_key
from .helpers.ws import Client

DOG, CAT = track_id("Animals/01 Dog.wav"), track_id("Animals/02 Cat.wav")
BAD_NAMES = [
    "Nul\x00l",
    "Bell\x07",
    "Tab\tinside",
    "Next\x85line",  # C1
    "Delete\x7f",
    "\u202egnp.exe",  # right-to-left override
    "Left\u202a",
    "Isolate\u2066x\u2069",
    "\u2068First strong",
    "",
    "x" * 101,
]


@pytest.fixture
async def admin(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> Client:
    """An administrator's connection."""
    return Client(await hass_ws_client(hass), entry.entry_id)


async def act(hass: HomeAssistant, entry: MockConfigEntry, service: str, **data: Any) -> Any:
    """Call an action as an automation does."""
    return await hass.services.async_call(
        DOMAIN,
        service,
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, **data},
        blocking=True,
        return_response=service == "create_playlist",
    )


async def names(admin: Client) -> list[str]:
    """Return the names of every playlist."""
    return [p["name"] for p in (await admin.ok("playlists/list"))["playlists"]]


@pytest.mark.parametrize("bad", BAD_NAMES)
async def test_names_refuse_control_characters_both_ways(
    hass: HomeAssistant, entry: MockConfigEntry, admin: Client, bad: str
) -> None:
    """The same translated error from a command, an action and an import's new playlist."""
    before = await names(admin)
    error = await admin.error("playlists/create", "invalid_playlist_name", name=bad)
    assert error["translation_domain"] == DOMAIN
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, entry, "create_playlist", name=bad)
    assert err.value.translation_key == "invalid_playlist_name"
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, entry, "import_url", url="https://example.invalid/a.mp3", playlist_name=bad)
    assert err.value.translation_key == "invalid_playlist_name"
    mine = (await admin.ok("playlists/create", name="Mine"))["id"]
    await admin.error("playlists/rename", "invalid_playlist_name", playlist_id=mine, name=bad)
    with pytest.raises(ServiceValidationError):
        await act(hass, entry, "rename_playlist", playlist_id=mine, name=bad)
    assert sorted(await names(admin)) == sorted([*before, "Mine"])


@pytest.mark.parametrize("value", [True, 1e308, 5, None, ["a"]])
async def test_action_names_must_be_strings(
    hass: HomeAssistant, entry: MockConfigEntry, admin: Client, value: Any
) -> None:
    """No `True` or `1e308` turned into a playlist name by cv.string."""
    before = await names(admin)
    with pytest.raises(vol.Invalid):
        await act(hass, entry, "create_playlist", name=value)
    await admin.error("playlists/create", "invalid_format", name=value)
    assert await names(admin) == before


@pytest.mark.parametrize("position", [True, False, 1.0, "1", 10_001])
async def test_positions_are_integers_in_range_both_ways(
    hass: HomeAssistant, entry: MockConfigEntry, admin: Client, position: Any
) -> None:
    """A position is an integer (no bool, no numeric string, no float) within bounds."""
    mine = (await admin.ok("playlists/create", name="Mine", track_ids=[DOG]))["id"]
    fields = {"playlist_id": mine, "track_ids": [CAT], "position": position}
    with pytest.raises(vol.Invalid):
        await act(hass, entry, "add_tracks", **fields)
    await admin.error("playlists/add_tracks", "invalid_format", **fields)
    assert (await admin.ok("playlists/get", playlist_id=mine))["track_ids"] == [DOG]


async def test_same_response_both_ways(
    hass: HomeAssistant, entry: MockConfigEntry, admin: Client
) -> None:
    """An action's response is the command's result without its seq."""
    by_command = await admin.ok("playlists/get", playlist_id=ANIMALS)
    by_action = await hass.services.async_call(
        DOMAIN,
        "get_playlist",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "playlist_id": ANIMALS},
        blocking=True,
        return_response=True,
    )
    assert by_action == {k: v for k, v in by_command.items() if k != "seq"}


async def test_an_acknowledged_edit_is_on_disk(
    hass: HomeAssistant, entry: MockConfigEntry, admin: Client, hass_storage: dict[str, Any]
) -> None:
    """The reply to an edit comes after the write (not a second later)."""
    hass_storage.pop(store_key(entry), None)
    created = await admin.ok("playlists/create", name="Saved")
    assert created["id"] in hass_storage[store_key(entry)]["data"]["playlists"]
    hass_storage.pop(store_key(entry))
    await act(hass, entry, "rename_playlist", playlist_id=created["id"], name="Renamed")
    stored = hass_storage[store_key(entry)]["data"]["playlists"][created["id"]]
    assert stored["name"] == "Renamed"


async def test_concurrent_rescans_merge(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """50 rescans at once: the running scan and one follow-up, not 50 scans of the folder."""
    hub = entry.runtime_data.events
    seq = hub.seq
    await asyncio.gather(*(act(hass, entry, "rescan") for _ in range(50)))
    scans = [e for e in hub.buffer if e["seq"] > seq and e["type"] == "library"]
    assert 1 <= len(scans) <= 2
    # A rescan asked after they all finished scans again.
    await act(hass, entry, "rescan")
    assert (
        len([e for e in hub.buffer if e["seq"] > seq and e["type"] == "library"]) == len(scans) + 1
    )
