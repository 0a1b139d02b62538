"""libmpv's output keeps glibc's mmap threshold fixed (playback/heap.py).

Measured with bench/bench_churn.py (a room) and bench/bench_soak.py (the box), glibc raised the
threshold at each large block freed and then kept the large buffers of every track's load in its
arenas: RSS grew ~10 MB a track. With the threshold fixed, a large block is still mapped after a
larger one was freed (and so unmapped when freed), as glibc does before it starts raising it.

The setting is process-wide and a long test run's heap has free blocks of every size, so the
mechanism is checked in a fresh interpreter, and the box's part by the call it makes.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.playback import heap
from custom_components.open_music_box.playback.outputs.mpv import MpvOutput

GLIBC_ONLY = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc" or heap.ENV in os.environ,
    reason="glibc's own threshold only",
)

# Free an 8 MB block (glibc would raise its threshold to it), then is a new 1 MB block mapped?
PROBE = """
import ctypes, importlib.util, sys
spec = importlib.util.spec_from_file_location("heap", sys.argv[1])
heap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(heap)
if sys.argv[2] == "fix":
    assert heap.fix_mmap_threshold()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.free(libc.malloc(8 * 2**20))
block = libc.malloc(2**20)
size_word = ctypes.c_size_t.from_address(block - ctypes.sizeof(ctypes.c_size_t))
print(bool(size_word.value & 0x2))  # glibc's IS_MMAPPED flag, in the chunk's size word
"""


def _mapped_in_a_fresh_process(fix: bool) -> bool:
    env = {k: v for k, v in os.environ.items() if k != heap.ENV}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, heap.__file__, "fix" if fix else "plain"],
        capture_output=True,
        check=True,
        env=env,
        text=True,
    )
    return result.stdout.strip() == "True"


@GLIBC_ONLY
def test_a_fixed_threshold_keeps_large_blocks_mapped() -> None:
    assert not _mapped_in_a_fresh_process(fix=False)  # glibc raised its threshold: kept in the heap
    assert _mapped_in_a_fresh_process(fix=True)


@pytest.fixture
def unfixed(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if no output had fixed the threshold in this process yet (an earlier test may have)."""
    monkeypatch.setattr(heap, "_done", False)


@GLIBC_ONLY
async def test_the_box_fixes_the_threshold_when_its_mpv_output_opens(
    unfixed: None, entry: MockConfigEntry
) -> None:
    assert isinstance(entry.runtime_data.player.output, MpvOutput)
    assert heap.threshold_fixed()
