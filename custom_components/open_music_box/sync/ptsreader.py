"""mpv's audio-pts read on a thread of its own, each read dated by the clock read on both sides.

A property notification reaches Python on python-mpv's event thread, which must take the GIL
before it can read the clock. Measured with a busy Python thread beside it (as Home Assistant's
event loop at work): every notification was dated 5 ms late (the interpreter's switch interval),
and with the loop busy a fifth of the time a 1 s line through them was 0.5-1.8 ms off; read here,
within 0.1 ms (a probe on a real libmpv). ctypes releases the GIL during the call and waits for
it after, so a read whose two clock reads are close is dated by them to within
their spread; the others are dropped.

No Home Assistant imports: the satellite ships this module too (satellite/omb_satellite/shared).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
import contextlib
import logging
import threading
import time
from typing import Any

POLL_SECONDS = 0.05
MAX_SPREAD_SECONDS = 0.0005  # a read slower than this waited for the GIL or for mpv's core
SLOW_HOST_FACTOR = 3.0  # a host whose quickest reads are slow: up to this times the quickest
SPREADS_KEPT = 200  # 10 s: a slow host is slow for good, a busy loop for moments
CLOSE_TIMEOUT_SECONDS = 2.0

_LOGGER = logging.getLogger(__name__)


def exact_pulse_latency(player: Any) -> None:
    """Have mpv compute PulseAudio's latency itself (`pulse-latency-hacks`), where it plays there.

    Measured with two fresh streams of one sink: with PulseAudio's smoothed timing, audio-pts
    moved up to 0.35 ms off what was heard over a start's first seconds; computed by mpv, within
    0.15 ms. The option exists only in a libmpv built with PulseAudio.
    """
    with contextlib.suppress(AttributeError):
        player.pulse_latency_hacks = True


class PtsReader:
    """Reads `read()` every POLL_SECONDS while resumed; passes on (monotonic time, value)."""

    def __init__(
        self, read: Callable[[], float | None], add: Callable[[float, float], None], name: str
    ) -> None:
        """`read` runs on the reader's thread; so does `add`, for each read kept."""
        self._read = read
        self._add = add
        self._resumed = threading.Event()
        self._closed = threading.Event()
        self._spreads: deque[float] = deque(maxlen=SPREADS_KEPT)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def resume(self) -> None:
        """Read from now on (the player plays)."""
        self._resumed.set()

    def pause(self) -> None:
        """Stop reading until resume() (paused, seeking, idle)."""
        self._resumed.clear()

    def close(self) -> None:
        """Stop the thread and wait for it: no read may reach a player that is terminated."""
        self._closed.set()
        self._resumed.set()
        if self._thread is not threading.current_thread():
            self._thread.join(CLOSE_TIMEOUT_SECONDS)

    def _loop(self) -> None:
        while not self._closed.is_set():
            self._resumed.wait()
            if self._closed.is_set():
                return
            before = time.monotonic()
            try:
                value = self._read()
            except Exception as err:  # noqa: BLE001, RUF100 (closing, between files)
                _LOGGER.debug("audio-pts not read: %s", err)
                value = None
            after = time.monotonic()
            spread = after - before
            self._spreads.append(spread)
            if value is not None and spread <= self.limit():
                self._add((before + after) / 2, value)
            self._closed.wait(POLL_SECONDS)

    def limit(self) -> float:
        """Return the slowest read kept: MAX_SPREAD_SECONDS, more on a host too slow for it.

        Judged over a full window of reads only: the first few may all have waited for the GIL,
        and taken as the host's pace they let reads 5 ms late through (tests/test_ptsreader.py).
        """
        if len(self._spreads) < SPREADS_KEPT:
            return MAX_SPREAD_SECONDS
        return max(MAX_SPREAD_SECONDS, SLOW_HOST_FACTOR * min(self._spreads))
