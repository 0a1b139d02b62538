"""NFC tags on a real box: scans through HA's tag component, links, a client of our tag commands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from homeassistant.components import tag
from homeassistant.components.persistent_notification import _async_get_or_create_notifications
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.typing import (
    MockHAClientWebSocket,
    WebSocketGenerator,
)

from custom_components.open_music_box.const import (
    DOMAIN,
)
from custom_components.open_music_box.library import folder_playlist_id

from ..conftest import box_entry, build_library

ANIMALS = folder_playlist_id("Animals")


AUDIOBOOK = folder_playlist_id("Audiobook")


SENSOR = "sensor.music_box_last_tag"


READER = "reader-device-id"


TAG_A = "04-1A-3B-1C-5D-80-00"


TAG_B = "04-77-12-9A-21-80-00"


TIMEOUT = 20  # seconds; only a guard against a hang


@pytest.fixture(autouse=True)
async def tag_component(hass: HomeAssistant) -> None:
    """HA's tag component (what readers call) and notifications."""
    assert await async_setup_component(hass, "tag", {})
    assert await async_setup_component(hass, "persistent_notification", {})


@pytest.fixture
async def ws(hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator) -> Ws:
    """An admin's connection."""
    return Ws(await hass_ws_client(hass), entry.entry_id)


@pytest.fixture
async def ws_user(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> Ws:
    """A non-admin user's connection."""
    return Ws(await hass_ws_client(hass, hass_read_only_access_token), entry.entry_id)


@pytest.fixture
async def second_box(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[MockConfigEntry]:
    """Another loaded box, on its own library."""
    library = build_library(tmp_path / "other")
    hass.config.allowlist_external_dirs = {*hass.config.allowlist_external_dirs, str(tmp_path)}
    other = box_entry(library)
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(other.entry_id)
    await hass.async_block_till_done()
    yield other
    await hass.config_entries.async_unload(other.entry_id)


# Helpers -----------------------------------------------------------------


async def scan(hass: HomeAssistant, tag_id: str, device_id: str | None = READER) -> None:
    """Scan a tag as a reader does, and wait for what it starts."""
    await tag.async_scan_tag(hass, tag_id, device_id)
    await hass.async_block_till_done()


async def act(
    hass: HomeAssistant, entry: MockConfigEntry, service: str, **data: Any
) -> dict[str, Any] | None:
    """Call one of our actions for the box; return its response when it has one."""
    response = await hass.services.async_call(
        DOMAIN,
        service,
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=service
        in {"list_tags", "link_tag", "associate_tag", "override_tag", "cancel_association"},
    )
    await hass.async_block_till_done()
    return response


async def listed_tags(hass: HomeAssistant, entry: MockConfigEntry) -> list[dict[str, Any]]:
    """Return the tag links the list_tags action answers."""
    listed = await act(hass, entry, "list_tags")
    assert listed is not None
    links: list[dict[str, Any]] = listed["tags"]
    return links


async def link(hass: HomeAssistant, entry: MockConfigEntry, tag_id: str, playlist: str) -> None:
    """Link a tag with the action."""
    await act(hass, entry, "link_tag", tag_id=tag_id, playlist_id=playlist)


def player(entry: MockConfigEntry) -> Any:
    """Return the box's player."""
    return entry.runtime_data.player


def track_id(entry: MockConfigEntry, title: str) -> str:
    """Return the id of a track of the generated library by title."""
    return next(t.id for t in entry.runtime_data.catalog.scan.tracks.values() if t.title == title)


def current_title(entry: MockConfigEntry) -> str | None:
    """Return the title of the track at the play position."""
    current = player(entry).current
    return None if current is None else current.title


async def set_options(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    """Change the box's options (applied without a reload)."""
    hass.config_entries.async_update_entry(entry, options={**entry.options, **options})
    await hass.async_block_till_done()


def notifications(hass: HomeAssistant) -> dict[str, Any]:
    """Return the persistent notifications by id."""
    return dict(_async_get_or_create_notifications(hass))


def states_of(events: list[Any]) -> list[str]:
    """Return the association states of captured bus events."""
    return [e.data["state"] for e in events]


class Ws:
    """A WebSocket connection that sends our commands and keeps the events of a subscription."""

    def __init__(self, client: MockHAClientWebSocket, entry_id: str) -> None:
        self.client = client
        self.entry_id = entry_id
        self.events: list[dict[str, Any]] = []
        self.sub_id: int | None = None

    async def call(self, command: str, /, **fields: Any) -> dict[str, Any]:
        """Send a command and return its reply (events read meanwhile are kept)."""
        msg: dict[str, Any] = {"type": f"{DOMAIN}/{command}", "entry_id": self.entry_id, **fields}
        await self.client.send_json_auto_id(msg)
        while True:
            async with asyncio.timeout(TIMEOUT):
                reply = await self.client.receive_json()
            if reply["type"] == "event":
                self.events.append(reply["event"])
            elif reply["id"] == msg["id"]:
                return dict(reply)

    async def ok(self, command: str, /, **fields: Any) -> Any:
        """Send a command that must succeed; return its result."""
        reply = await self.call(command, **fields)
        assert reply["success"], reply
        return reply["result"]

    async def error(self, command: str, code: str, /, **fields: Any) -> dict[str, Any]:
        """Send a command that must fail with `code`; return the error."""
        reply = await self.call(command, **fields)
        assert not reply["success"], reply
        assert reply["error"]["code"] == code, reply
        assert reply["error"]["message"]
        error: dict[str, Any] = reply["error"]
        return error

    async def subscribe(self) -> None:
        """Follow the box's live state."""
        await self.ok("subscribe")

    async def of_type(self, event_type: str) -> list[dict[str, Any]]:
        """Read what was sent so far (up to a ping's pong); take out the events of one type."""
        await self.client.send_json_auto_id({"type": "ping"})
        while True:
            async with asyncio.timeout(TIMEOUT):
                msg = await self.client.receive_json()
            if msg["type"] == "pong":
                break
            if msg["type"] == "event":
                self.events.append(msg["event"])
        found = [e["data"] for e in self.events if e["type"] == event_type]
        self.events = [e for e in self.events if e["type"] != event_type]
        return found
