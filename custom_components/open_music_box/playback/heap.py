"""Keep glibc's mmap threshold fixed while libmpv plays in this process (a box or a room).

Measured with bench/bench_churn.py (a room with one local libmpv member, 4 s tracks) and
bench/bench_soak.py (the box, 4 s tracks), RSS grew in ~10 MB steps, up to 50-150 MB, while the
C heap in use stayed flat. glibc raises its mmap threshold to the size of each large block freed
(up to 32 MB): from then on the large buffers of every track's load came from the threads'
arenas, which kept them once freed, partly resident (malloc_trim(0) gave back only a third).
With the threshold fixed at glibc's default (as `MALLOC_MMAP_THRESHOLD_=131072` in the
environment does) large blocks are mapped and unmapped each time: the same run stays flat. Not
the cause: libmpv's per-track threads (without the output's, demuxer's and filter graph's thread
starts it grew the same).

Process-wide, so set once, and left alone where the environment already sets it. Only where
glibc runs (musl has no such threshold; jemalloc, which Home Assistant's container image
preloads, does not use glibc's arenas: setting it there is harmless).
"""

from __future__ import annotations

import ctypes
import os
import platform

M_MMAP_THRESHOLD = -3  # mallopt's parameter (malloc.h)
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's default, before it starts raising it
ENV = "MALLOC_MMAP_THRESHOLD_"

_done = False


def fix_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold once per process; return whether it is fixed. Blocking.

    Blocking (reads the interpreter's binary to tell glibc): call it from the executor.
    """
    global _done  # noqa: PLW0603 - once per process
    if _done:
        return True
    if ENV in os.environ or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    return _done


def threshold_fixed() -> bool:
    """Return True once this process fixed the threshold."""
    return _done
