"""Children's features on a real box: the capped box, playing, modes, stored points, a non-admin."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from pathlib import Path
from typing import Any

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.components.media_player import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    DOMAIN as MP_DOMAIN,
    SERVICE_PLAY_MEDIA,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_ENTITY_ID,
    EVENT_HOMEASSISTANT_FINAL_WRITE,
)
from homeassistant.core import Context, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.box import MusicBox
from custom_components.open_music_box.const import (
    CONF_MAX_VOLUME,
    DOMAIN,
)
from custom_components.open_music_box.library import folder_playlist_id, track_id
from custom_components.open_music_box.playback.player import PlayState

from ..conftest import ENTITY_ID, box_entry
from ..helpers.ws import Client

ANIMALS = folder_playlist_id("Animals")


AUDIOBOOK = folder_playlist_id("Audiobook")


DOG, CAT, COW = (track_id(f"Animals/{name}.wav") for name in ("01 Dog", "02 Cat", "03 Cow"))


CHAPTER_1, CHAPTER_2 = (track_id(f"Audiobook/Chapter {n}.wav") for n in (1, 2))


NUMBER_ID = "number.music_box_max_volume"


SENSOR_ID = "sensor.music_box_sleep_timer"


@pytest.fixture
async def capped(hass: HomeAssistant, library: Path) -> AsyncGenerator[MockConfigEntry]:
    """A box (mpv) capped at 40 %; its default volume (50 %) starts capped too."""
    entry = await set_up(hass, box_entry(library, None, **{CONF_MAX_VOLUME: 40}), library)
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def ws(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> Client:
    """An admin's WebSocket connection to the box."""
    return Client(await hass_ws_client(hass), entry.entry_id)


# Helpers ----------------------------------------------------------------------------------------


def the_box(entry: MockConfigEntry) -> MusicBox:
    """Return the box of a loaded entry."""
    box: MusicBox = entry.runtime_data
    return box


async def player_call(hass: HomeAssistant, service: str, **data: Any) -> None:
    """Call a media_player service on the box."""
    await hass.services.async_call(
        MP_DOMAIN, service, {ATTR_ENTITY_ID: ENTITY_ID, **data}, blocking=True
    )
    await hass.async_block_till_done()


async def play_media(hass: HomeAssistant, playlist_id: str) -> None:
    """Start a playlist as the dashboard does (play_media of playlist:<id>)."""
    await player_call(
        hass,
        SERVICE_PLAY_MEDIA,
        **{ATTR_MEDIA_CONTENT_ID: f"playlist:{playlist_id}", ATTR_MEDIA_CONTENT_TYPE: "music"},
    )


async def mpv_volume(hass: HomeAssistant, entry: MockConfigEntry) -> float:
    """Return the volume mpv itself plays at (0..100), read off the loop."""
    mpv = the_box(entry).player.output.mpv  # type: ignore[attr-defined]
    return float(await hass.async_add_executor_job(lambda: mpv.volume))


async def set_up(hass: HomeAssistant, entry: MockConfigEntry, library: Path) -> MockConfigEntry:
    """Load a box on `library`."""
    hass.config.allowlist_external_dirs = {str(library.parent)}
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def set_mode(
    hass: HomeAssistant, entry: MockConfigEntry, playlist_id: str, mode: str
) -> None:
    """Set a playlist's mode with the action."""
    await hass.services.async_call(
        DOMAIN,
        "set_playlist_mode",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "playlist_id": playlist_id, "mode": mode},
        blocking=True,
    )


async def list_playlists(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Return the playlists index (by id) as the list action answers it."""
    response = await hass.services.async_call(
        DOMAIN,
        "list_playlists",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    playlists: list[dict[str, Any]] = response["playlists"]  # type: ignore[assignment]
    return {p["id"]: p for p in playlists}


async def tick(hass: HomeAssistant, when: datetime) -> None:
    """Let Home Assistant's timers due by `when` run, and their work finish."""
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done()


async def flush(hass: HomeAssistant) -> None:
    """Write the store's pending delayed save now, as Home Assistant does when it stops."""
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()


def stored(hass_storage: dict[str, Any], entry: MockConfigEntry) -> dict[str, Any]:
    """Return what the box's file holds."""
    data: dict[str, Any] = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]
    return data


def without_at(point: dict[str, Any]) -> dict[str, Any]:
    """Return a stored resume point without when it was written."""
    return {key: value for key, value in point.items() if key != "at"}


def non_admin(hass: HomeAssistant) -> Context:
    """Return the context of a call by a regular (non-admin) user."""
    group = hass.auth._store._groups[GROUP_ID_USER]
    user = MockUser(groups=[group]).add_to_hass(hass)
    return Context(user_id=user.id)


def play_state(entry: MockConfigEntry) -> PlayState:
    """Return what the player is doing (read afresh: not narrowed by earlier checks)."""
    return the_box(entry).player.state
