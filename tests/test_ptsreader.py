"""audio-pts read and dated on a thread of its own (sync/ptsreader.py).

A notification is dated when python-mpv's event thread gets the GIL: with Python busy beside it,
every one came 5 ms late. The reader dates a read by the clock on both sides of the call and
drops the slow ones. The timing is checked with a C clock read through ctypes, which releases and
retakes the GIL as libmpv's calls do (a real player's own stalls on a loaded machine blurred it).
"""

from __future__ import annotations

from collections.abc import Iterator
import ctypes
from pathlib import Path
import threading
import time
from typing import ClassVar

import mpv
import pytest

from custom_components.open_music_box.sync import ptsreader
from custom_components.open_music_box.sync.ptsreader import PtsReader, exact_pulse_latency

from .audio import write_wav


def wait_for(condition: object, timeout: float = 10.0) -> None:
    """Wait (in this thread) until `condition()` is true."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_slow_reads_are_dropped_and_quick_ones_dated_between_the_clock_reads() -> None:
    """A read that waited (here: every third sleeps 3 ms, as one waiting for the GIL) is never
    the one kept of its group; the reads kept are dated within the call."""
    calls: list[tuple[float, float]] = []
    kept: list[tuple[float, float]] = []

    def read() -> float:
        before = time.monotonic()
        if len(calls) % 3 == 2:
            time.sleep(0.003)
        calls.append((before, time.monotonic()))
        return float(len(calls))

    reader = PtsReader(read, lambda t, v: kept.append((t, v)), "test_pts")
    reader.resume()
    wait_for(lambda: len(calls) >= 12)
    reader.close()
    slow = {float(i + 1) for i in range(len(calls)) if i % 3 == 2}
    assert kept, "no quick read was kept"
    assert not slow & {value for _, value in kept}
    for stamp, value in kept:  # dated between the clock reads around the call: within them
        start, end = calls[int(value) - 1]
        assert end - ptsreader.MAX_SPREAD_SECONDS <= stamp <= start + ptsreader.MAX_SPREAD_SECONDS


def test_pause_resume_close_and_a_failing_read() -> None:
    """Paused it reads nothing; a read that raises (a player closing) does not end the thread;
    close() returns with the thread ended."""
    reads: list[int] = []

    def read() -> float | None:
        reads.append(1)
        if len(reads) == 2:
            raise RuntimeError("closing")
        return None  # mpv: unavailable

    reader = PtsReader(read, lambda t, v: None, "test_pts")
    time.sleep(0.2)
    assert not reads  # not resumed yet
    reader.resume()
    wait_for(lambda: len(reads) >= 4)
    reader.pause()
    time.sleep(ptsreader.POLL_SECONDS * 2)
    paused_at = len(reads)
    time.sleep(ptsreader.POLL_SECONDS * 4)
    assert len(reads) == paused_at
    reader.close()
    assert not reader._thread.is_alive()


def test_a_slow_host_still_gets_its_best_reads() -> None:
    """Where every read takes 1 ms (a small board), the best of each group is still kept."""
    kept: list[float] = []

    def read() -> float:
        time.sleep(0.001)
        return 1.0

    reader = PtsReader(read, lambda t, v: kept.append(v), "test_pts")
    reader.resume()
    wait_for(lambda: len(kept) >= 3)
    reader.close()


@pytest.fixture
def player(tmp_path: Path) -> Iterator[mpv.MPV]:
    """libmpv playing a generated tone to its null output."""
    player = mpv.MPV(ao="null", vo="null", video=False, idle=True, keep_open="yes")
    player.play(str(write_wav(tmp_path / "tone.wav", seconds=30)))
    wait_for(lambda: player.audio_pts is not None and player.audio_pts > 0.5)
    yield player
    player.terminate()


class Timespec(ctypes.Structure):
    """struct timespec."""

    _fields_: ClassVar = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


LIBC = ctypes.CDLL(None)


def c_read() -> float:
    """A read like libmpv's, through ctypes: CLOCK_MONOTONIC (time.monotonic's clock) read in C,
    then 0.1 ms more in C (libmpv's call waits for its core thread). The GIL is released during
    each call and waited for after it."""
    spec = Timespec()
    assert LIBC.clock_gettime(time.CLOCK_MONOTONIC, ctypes.byref(spec)) == 0
    LIBC.usleep(100)
    return spec.tv_sec + spec.tv_nsec * 1e-9


def test_reads_are_dated_right_while_python_is_busy() -> None:
    """With a thread holding the GIL half of the time (the event loop at work), a value read in C
    and dated after the call (as a notification is) came milliseconds late; each read the reader
    keeps is dated within 1 ms of the instant it was made (half the largest spread kept)."""
    kept: list[tuple[float, float]] = []
    late: list[float] = []
    done = threading.Event()

    def hold_the_gil() -> None:  # half of the time, in 50 ms turns
        while not done.is_set():
            until = time.monotonic() + 0.05
            while time.monotonic() < until:
                sum(i * i for i in range(200))
            time.sleep(0.05)

    worker = threading.Thread(target=hold_the_gil)
    worker.start()
    reader = PtsReader(c_read, lambda t, v: kept.append((t, v)), "test_pts")
    reader.resume()
    try:
        deadline = time.monotonic() + 10.0
        while max(late, default=0.0) <= 0.002 and time.monotonic() < deadline:
            made = c_read()  # dated after the call: as python-mpv's event thread does
            late.append(time.monotonic() - made)
            time.sleep(0.005)
        wait_for(lambda: len(kept) >= 20)
    finally:
        done.set()
        worker.join()
        reader.close()
    assert max(late) > 0.002
    assert max(abs(stamp - made) for stamp, made in kept) <= ptsreader.MAX_SPREAD_SECONDS / 2


def test_mpv_computes_the_pulse_latency_where_it_can(player: mpv.MPV) -> None:
    """Set on a real libmpv; a player without the option (no PulseAudio) is left as it is."""
    exact_pulse_latency(player)
    assert player.pulse_latency_hacks is True

    class WithoutPulse:
        def __setattr__(self, name: str, value: object) -> None:
            raise AttributeError(name)

    exact_pulse_latency(WithoutPulse())
