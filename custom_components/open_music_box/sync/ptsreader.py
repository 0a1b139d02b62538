"""mpv's audio-pts read on a thread of its own, each read dated by the clock read on both sides.

A property notification reaches Python on python-mpv's event thread, which must take the GIL
before it can read the clock. Measured with a busy Python thread beside it (as Home Assistant's
event loop at work): every notification was dated 5 ms late (the interpreter's switch interval),
and with the loop busy a fifth of the time a 1 s line through them was 0.5-1.8 ms off; read here,
within 0.1 ms (a probe on a real libmpv). ctypes releases the GIL during the call and waits for
it after, so a read is dated by the clock reads around it to within half their spread. Of every
GROUP reads the one with the smallest spread is kept (NTP's minimum-delay filter): a steady five
reads a second, each the best dated of its group, on a busy host as on a slow one.

No Home Assistant imports: the satellite ships this module too (satellite/omb_satellite/shared).
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
import logging
import threading
import time
from typing import Any

POLL_SECONDS = 0.05
GROUP = 4  # the best-dated read of every four (0.2 s) is kept
# Even the best of a group is dropped above this: every read of it waited (a loop busy for 0.2 s).
# Dropping only the reads slower than 0.5 ms left rooms without a measurement for seconds while
# Home Assistant was busy (measured at the output).
MAX_SPREAD_SECONDS = 0.002
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
        best: tuple[float, float, float] | None = None  # (spread, time, value) of this group
        count = 0
        while not self._closed.is_set():
            if not self._resumed.is_set():
                best, count = None, 0  # a group does not span a pause
                self._resumed.wait()
                continue
            before = time.monotonic()
            try:
                value = self._read()
            except Exception as err:  # noqa: BLE001, RUF100 (closing, between files)
                _LOGGER.debug("audio-pts not read: %s", err)
                value = None
            after = time.monotonic()
            if value is not None and (best is None or after - before < best[0]):
                best = (after - before, (before + after) / 2, value)
            count += 1
            if count == GROUP:
                if best is not None and best[0] <= MAX_SPREAD_SECONDS and self._resumed.is_set():
                    self._add(best[1], best[2])
                best, count = None, 0
            self._closed.wait(POLL_SECONDS)
