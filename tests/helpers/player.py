"""The box's media player: call its services, read its state, wait for mpv."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from homeassistant.components.media_player import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    DOMAIN as MP_DOMAIN,
    SERVICE_PLAY_MEDIA,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
)
from homeassistant.core import HomeAssistant, State
from pytest_homeassistant_custom_component.common import MockConfigEntry

from ..conftest import ENTITY_ID


async def call(hass: HomeAssistant, service: str, **data: Any) -> None:
    """Call a media_player service on the box and wait for it."""
    await hass.services.async_call(
        MP_DOMAIN, service, {ATTR_ENTITY_ID: ENTITY_ID, **data}, blocking=True
    )


async def play(hass: HomeAssistant, media_id: str, **extra: Any) -> None:
    """Play one of our media ids."""
    await call(
        hass,
        SERVICE_PLAY_MEDIA,
        **{ATTR_MEDIA_CONTENT_ID: media_id, ATTR_MEDIA_CONTENT_TYPE: "music", **extra},
    )


def state(hass: HomeAssistant, entity_id: str = ENTITY_ID) -> State:
    """Return an entity's state (the box's by default)."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current


async def wait_for(predicate: Callable[[], bool]) -> None:
    """Wait (bounded: 15 s) until mpv has done what the test waits for."""
    async with asyncio.timeout(15):
        while not predicate():  # noqa: ASYNC110 - polls state written by mpv's thread
            await asyncio.sleep(0.02)


async def wait_position(entry: MockConfigEntry, minimum: float) -> None:
    """Wait (bounded: 15 s) until mpv itself reports at least `minimum` seconds."""
    output = entry.runtime_data.player.output
    async with asyncio.timeout(15):
        while ((await output.async_get_position()) or 0) < minimum:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


def playlist_id(entry: MockConfigEntry, name: str) -> str:
    """Return the id of a playlist by name."""
    return next(p.id for p in entry.runtime_data.catalog.playlists() if p.name == name)


def track_id(entry: MockConfigEntry, title: str) -> str:
    """Return the id of a library track by title."""
    return next(t.id for t in entry.runtime_data.catalog.scan.tracks.values() if t.title == title)
