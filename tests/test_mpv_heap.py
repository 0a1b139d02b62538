"""A box or a room playing through libmpv keeps glibc's mmap threshold fixed (playback/heap.py).

Measured with bench/bench_churn.py, glibc raised the threshold at each large block freed and
then kept the large buffers of every track's load in its arenas: a playing room's RSS grew ~10
MB a track, and the box's (bench/bench_soak.py) the same way. With the threshold fixed, a large
block is still mapped after a larger one was freed (and so unmapped when freed), as glibc does
before it starts raising it.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
import platform

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.playback.heap import ENV
from custom_components.open_music_box.playback.outputs.mpv import MpvOutput

from .helpers.rooms import room_of, room_subentry, setup_room_entry, sync_library

IS_MMAPPED = 0x2  # glibc's flag in a chunk's size word, just before the block


def _mapped_after_a_larger_free() -> bool:
    """Free an 8 MB block (glibc would raise its threshold to it), then map 1 MB or not."""
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free(libc.malloc(8 * 2**20))
    block = libc.malloc(2**20)
    try:
        size_word = ctypes.c_size_t.from_address(block - ctypes.sizeof(ctypes.c_size_t))
        return bool(size_word.value & IS_MMAPPED)
    finally:
        libc.free(block)


GLIBC_ONLY = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc" or ENV in os.environ,
    reason="glibc's own threshold only",
)


@GLIBC_ONLY
async def test_a_box_playing_through_libmpv_keeps_large_blocks_mapped(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The box's own mpv output (the threshold is process-wide: whichever opens first sets it)."""
    assert isinstance(entry.runtime_data.player.output, MpvOutput)
    assert await hass.async_add_executor_job(_mapped_after_a_larger_free)


@GLIBC_ONLY
async def test_a_room_with_a_local_member_keeps_large_blocks_mapped(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    entry = await setup_room_entry(
        hass, sync_library(tmp_path / "library"), room_subentry(local=[("null", 0.0)])
    )
    assert room_of(entry).coordinator.members  # the local member opened
    assert await hass.async_add_executor_job(_mapped_after_a_larger_free)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
