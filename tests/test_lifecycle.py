"""Unloading a box leaves nothing running: no mpv thread or libmpv handle, no task of ours.

The unload comes in the middle of an output recovery (mpv died; a new one is being opened) and in
the middle of a room's barrier (a member that never says ready holds the start).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from contextlib import suppress
from datetime import timedelta
import threading
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import homeassistant.util.dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.open_music_box.playback.output_recovery import RECOVERY_DELAY_SECONDS

from .helpers.player import play, playlist_id
from .helpers.rooms import play_long, room_of
from .helpers.satellites import (  # noqa: F401 (fixtures)
    Raw,
    base_url,
    raw,
    room_entry,
)

OURS = "custom_components/open_music_box/"


def mpv_threads() -> list[str]:
    """Return the live threads of python-mpv (its event thread) and of our mpv workers."""
    return [
        thread.name
        for thread in threading.enumerate()
        if thread.is_alive() and ("MPV" in thread.name or "open_music_box_mpv" in thread.name)
    ]


def _frames(coro: Any) -> Generator[str]:
    """Yield the file of each coroutine in an await chain."""
    while coro is not None and hasattr(coro, "cr_code"):
        yield coro.cr_code.co_filename
        coro = coro.cr_await


def our_tasks() -> list[str]:
    """Return the pending tasks that run code of the integration anywhere in their await chain."""
    current = asyncio.current_task()
    found = []
    for task in asyncio.all_tasks():
        if task is current or task.done():
            continue
        coro: Coroutine[Any, Any, Any] = task.get_coro()  # type: ignore[assignment]
        if any(OURS in name for name in _frames(coro)) or "open_music_box" in task.get_name():
            found.append(task.get_name())
    return found


async def test_unload_in_the_middle_of_an_output_recovery(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """mpv died and its replacement is being opened when the box unloads: nothing survives."""
    player = entry.runtime_data.player
    await play(hass, f"playlist:{playlist_id(entry, 'Audiobook')}")
    old = player.output
    recovering = asyncio.Event()

    def watch() -> None:
        if not player.output_ok:
            recovering.set()

    unsub = player.async_add_listener(watch)
    await hass.async_add_executor_job(old.mpv.command, "quit")
    async with asyncio.timeout(15):
        await recovering.wait()  # the recovery has begun: it closes the dead mpv, opens another
    unsub()
    assert await hass.config_entries.async_unload(entry.entry_id)

    assert player.output.mpv is None
    assert old.mpv is None
    assert mpv_threads() == []
    assert our_tasks() == []
    # No retry comes back later to open a new mpv for a box that is gone.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=RECOVERY_DELAY_SECONDS + 1))
    await hass.async_block_till_done()
    assert player.output.mpv is None
    assert mpv_threads() == []


async def test_unload_in_the_middle_of_a_room_barrier(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,  # noqa: F811
    raw: Raw,  # noqa: F811
) -> None:
    """A barrier waits for a silent member when the box unloads: members and tasks are gone."""
    room, box = room_of(room_entry), room_entry.runtime_data
    sub, _joined = await raw.join(name="mute")
    playing = hass.async_create_task(play_long(hass, room_entry))
    await raw.event(sub, "prepare")  # the barrier now waits for the mute member
    assert room.coordinator.barrier is not None
    assert not playing.done()
    assert await hass.config_entries.async_unload(room_entry.entry_id)
    with suppress(HomeAssistantError):
        await playing

    assert room.coordinator.members == {}
    assert box.player.output.mpv is None
    assert mpv_threads() == []
    assert our_tasks() == []
