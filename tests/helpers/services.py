"""Our actions (services) on a real box, their answers, and the box's store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_CONFIG_ENTRY_ID,
    EVENT_HOMEASSISTANT_FINAL_WRITE,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.library import folder_playlist_id, m3u_playlist_id

from ..conftest import ENTITY_ID

COMPONENT = Path(__file__).parents[2] / "custom_components" / DOMAIN


ANIMALS = folder_playlist_id("Animals")


AUDIOBOOK = folder_playlist_id("Audiobook")


MIX = m3u_playlist_id("Mix.m3u")


RESPONDING = frozenset({"list_playlists", "get_playlist"})  # they only answer


ALL_SERVICES = (
    "rescan",
    "list_playlists",
    "get_playlist",
    "create_playlist",
    "rename_playlist",
    "delete_playlist",
    "add_tracks",
    "remove_tracks",
    "reorder_playlist",
    "move_track",
)


async def call(hass: HomeAssistant, entry_id: str, service: str, data: dict[str, Any]) -> Any:
    """Call one of the box's actions as an automation would (a response where it is the point)."""
    return await hass.services.async_call(
        DOMAIN,
        service,
        {ATTR_CONFIG_ENTRY_ID: entry_id, **data},
        blocking=True,
        return_response=service in RESPONDING,
    )


async def ask(hass: HomeAssistant, entry: ConfigEntry, service: str, **data: Any) -> dict[str, Any]:
    """Call an action that answers, and return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        service,
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, **data},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    return response


async def act(hass: HomeAssistant, entry: ConfigEntry, service: str, **data: Any) -> None:
    """Call an action without asking for a response."""
    await call(hass, entry.entry_id, service, data)


async def create(hass: HomeAssistant, entry: ConfigEntry, name: str, *track_ids: str) -> str:
    """Create a user playlist; return its id."""
    created = await ask(hass, entry, "create_playlist", name=name, track_ids=list(track_ids))
    return str(created["id"])


async def move(
    hass: HomeAssistant,
    entry: ConfigEntry,
    source: str,
    target: str,
    track_id: str,
    **extra: Any,
) -> None:
    """Move a track from one user playlist to another."""
    await act(
        hass,
        entry,
        "move_track",
        source_playlist_id=source,
        target_playlist_id=target,
        track_id=track_id,
        **extra,
    )


async def playlists(hass: HomeAssistant, entry: ConfigEntry) -> list[dict[str, Any]]:
    """Return list_playlists' answer."""
    return list((await ask(hass, entry, "list_playlists"))["playlists"])


async def playlist(hass: HomeAssistant, entry: ConfigEntry, playlist_id: str) -> dict[str, Any]:
    """Return get_playlist's answer."""
    return await ask(hass, entry, "get_playlist", playlist_id=playlist_id)


async def titles(hass: HomeAssistant, entry: ConfigEntry, playlist_id: str) -> list[str]:
    """Return the titles of a playlist's tracks, in order."""
    return [track["title"] for track in (await playlist(hass, entry, playlist_id))["tracks"]]


async def track_ids(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, str]:
    """Return the generated library's track ids by title."""
    ids: dict[str, str] = {}
    for playlist_id in (ANIMALS, AUDIOBOOK):
        for track in (await playlist(hass, entry, playlist_id))["tracks"]:
            ids[track["title"]] = track["track_id"]
    return ids


async def everything(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, dict[str, Any]]:
    """Every playlist with its tracks: a snapshot to compare before and after a call."""
    return {p["id"]: await playlist(hass, entry, p["id"]) for p in await playlists(hass, entry)}


async def browse(
    hass: HomeAssistant, ws: WebSocketGenerator, media_content_id: str | None = None
) -> dict[str, Any]:
    """Browse the box through the frontend's websocket command; return the raw result message."""
    client = await ws(hass)
    message: dict[str, Any] = {"type": "media_player/browse_media", "entity_id": ENTITY_ID}
    if media_content_id is not None:
        message |= {"media_content_id": media_content_id, "media_content_type": "playlist"}
    await client.send_json_auto_id(message)
    result: dict[str, Any] = await client.receive_json()
    return result


def child_titles(result: dict[str, Any]) -> list[str]:
    """Return the titles of a browse result's children (without the duration they show)."""
    assert result["success"], result
    return [child["title"].split(" · ")[0] for child in result["result"]["children"]]


async def flush_saves(hass: HomeAssistant) -> None:
    """Write pending delayed saves now, as HA does when it stops (final write)."""
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()


async def tick(hass: HomeAssistant, seconds: float) -> None:
    """Let `seconds` pass for HA's timers (folder check, delayed save) and wait for the work."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done(wait_background_tasks=True)


def store_key(entry: ConfigEntry) -> str:
    """Return the storage key of a box."""
    return f"{DOMAIN}.{entry.entry_id}"


def library_issue(hass: HomeAssistant, entry: ConfigEntry) -> ir.IssueEntry | None:
    """Return the box's "library folder missing" repair issue, if any."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"library_missing_{entry.entry_id}")


@pytest.fixture(autouse=True)
def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Give HA an existing media folder (browsing the box also lists HA's media sources)."""
    media = tmp_path / "media"
    media.mkdir()
    hass.config.media_dirs = {"local": str(media)}
    return media
