"""The position stream of one box: a position every 200 ms while playing, never two within 150 ms.

One timer at most, ever: every path that publishes (the 200 ms tick, a play/pause/seek/track
change) cancels the pending timer first and sets the next one, so commands and track changes
can never start a second chain of ticks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import time

from homeassistant.core import callback

POSITION_INTERVAL = 0.2  # seconds between position events while playing
POSITION_MIN_GAP = 0.15  # never two position events closer than this


class PositionStream:
    """When to publish positions; what to publish and to whom is the live state's."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        publish: Callable[[], None],
        listening: Callable[[], bool],
        playing: Callable[[], bool],
    ) -> None:
        """Initialize the position stream."""
        self._loop = loop
        self._publish = publish
        self._listening = listening
        self._playing = playing
        self.timer: asyncio.TimerHandle | None = None
        self._last_at = 0.0
        self._requested = False  # a play/pause/seek position waits for the gap

    def _streaming(self) -> bool:
        return self._listening() and self._playing()

    @callback
    def request(self) -> None:
        """Send a position for a play/pause/seek: now, or when the 150 ms gap allows (merged)."""
        self._requested = True
        wait = POSITION_MIN_GAP - (time.monotonic() - self._last_at)
        if wait > 0:
            self._schedule(wait)
        else:
            self._tick()

    @callback
    def sync(self) -> None:
        """Run the 200 ms stream only while playing and somebody listens."""
        if self._streaming():
            if self.timer is None:
                self._schedule(POSITION_INTERVAL)
        elif not self._requested:
            self.stop()

    @callback
    def _schedule(self, delay: float) -> None:
        self.stop()
        self.timer = self._loop.call_later(delay, self._tick)

    @callback
    def _tick(self) -> None:
        """Publish a position; every timer is set at least 150 ms after the last one."""
        # A request may publish before the pending tick is due: cancel that tick, or it would
        # start a second self-rescheduling chain (one per such request).
        self.stop()
        self._requested = False
        if self._listening():
            self._publish()
            # Read after the event's server_time: the gap counts from the stamp clients see,
            # even when the thread was switched away between the two clock reads.
            self._last_at = time.monotonic()
        if self._streaming():
            self._schedule(POSITION_INTERVAL)

    @callback
    def stop(self) -> None:
        """Cancel the pending timer."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
