"""The room as the player's output: the player keeps the queue, the coordinator the members.

This is what makes a room behave like the box (queue, shuffle, repeat, next/previous): the same
Player drives it. Tracks change with a barrier, not gaplessly, so every member starts the next
track at the same instant; the end of a track is known from the timeline and the duration.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from homeassistant.core import HomeAssistant, callback

from ..models import Track
from ..playback.outputs.base import OutputEvent, OutputEventType, OutputListener
from ..tasks import PartTasks
from .coordinator import Coordinator
from .timeline import TimelineState, server_time


class RoomOutput:
    """Implements the player's Output protocol on top of a coordinator."""

    def __init__(self, hass: HomeAssistant, coordinator: Coordinator) -> None:
        """Initialize the room output."""
        self._hass = hass
        self.coordinator = coordinator
        self._listener: OutputListener = lambda _event: None
        self._next: Track | None = None
        self._end: asyncio.TimerHandle | None = None
        self._tasks = PartTasks(hass)
        # A member could not decode the track: kept while a barrier runs, reported after it.
        self._loading = False
        self._failure: tuple[str, str] | None = None
        self._unsub_failed = coordinator.failed_listeners.add(self._on_failed)

    async def async_start(self, listener: OutputListener) -> None:
        """Nothing to open: the members open themselves."""
        self._listener = listener

    async def async_close(self) -> None:
        """Stop watching for the end of the track."""
        self._cancel_end()
        self._unsub_failed()
        await self._tasks.async_close()  # an advance under way ends here, not after the unload

    async def async_load(
        self, track: Track, position: float, paused: bool, next_track: Track | None
    ) -> None:
        """Barrier-start `track` on every member."""
        self._next = next_track
        self._cancel_end()
        if await self._async_barrier(self.coordinator.async_load(track, position, paused)):
            self._schedule_end()

    async def async_set_next(self, track: Track | None) -> None:
        """Remember the track that follows."""
        self._next = track

    async def async_play(self) -> None:
        """Resume everyone together."""
        if await self._async_barrier(self.coordinator.async_play()):
            self._schedule_end()

    async def async_pause(self) -> None:
        """Pause everyone at one position."""
        self._cancel_end()
        await self.coordinator.async_pause()

    async def async_stop(self) -> None:
        """Stop everyone."""
        self._cancel_end()
        await self.coordinator.async_stop()

    async def async_seek(self, position: float) -> None:
        """Barrier-seek everyone."""
        self._cancel_end()
        if await self._async_barrier(self.coordinator.async_seek(position)):
            self._schedule_end()

    async def async_set_volume(self, level: float) -> None:
        """Room volume: applied to every member."""
        await self.coordinator.async_set_volume(level, self.coordinator.muted)

    async def async_set_mute(self, muted: bool) -> None:
        """Mute every member."""
        await self.coordinator.async_set_volume(self.coordinator.volume, muted)

    async def async_get_position(self) -> float | None:
        """Return the timeline's position."""
        return None if self.coordinator.track is None else self.coordinator.position()

    def diagnostics(self) -> dict[str, Any]:
        """Describe the room output."""
        return {"type": "room", **self.coordinator.diagnostics()}

    # End of track -----------------------------------------------------------------

    def _duration(self) -> float | None:
        if (track := self.coordinator.track) is None:
            return None
        if track.duration is not None:
            return track.duration
        # No duration in the tags: the first member that opened the file knows it.
        return next((m.duration for m in self.coordinator.members.values() if m.duration), None)

    @callback
    def _schedule_end(self) -> None:
        self._cancel_end()
        timeline = self.coordinator.timeline
        if timeline.state is not TimelineState.PLAYING or (duration := self._duration()) is None:
            return
        ends_at = timeline.server_time + (duration - timeline.position) / timeline.rate
        generation = timeline.generation
        self._end = self._hass.loop.call_later(
            max(0.0, ends_at - server_time()), self._on_end, generation
        )

    def _cancel_end(self) -> None:
        if self._end is not None:
            self._end.cancel()
            self._end = None

    @callback
    def _on_end(self, generation: int) -> None:
        self._end = None
        if generation == self.coordinator.timeline.generation:
            self._tasks.spawn(self._async_advance(), "room advance")

    async def _async_advance(self) -> None:
        """Start the prepared next track on everyone, or stop at the end of the queue."""
        if (track := self._next) is None:
            await self.coordinator.async_stop()
            self._listener(OutputEvent(OutputEventType.END))
            return
        failure = not await self._async_barrier(
            self.coordinator.async_load(track, 0.0, paused=False), report=False
        )
        self._listener(OutputEvent(OutputEventType.ADVANCED))
        if failure and (failed := self.failure) is not None:
            self._report(*failed)  # after ADVANCED: the player is on that track
        else:
            self._schedule_end()

    # Tracks that cannot be decoded -------------------------------------------------------

    async def _async_barrier(
        self, barrier: Coroutine[Any, Any, None], *, report: bool = True
    ) -> bool:
        """Run a barrier; return False when a member could not decode the track (reported)."""
        self._loading, self._failure = True, None
        try:
            await barrier
        finally:
            self._loading = False
        if (failure := self.failure) is None:
            return True
        if report:
            # Once the player has taken the track as its current one (it does on our return).
            self._hass.loop.call_soon(self._report, *failure)
        return False

    @property
    def failure(self) -> tuple[str, str] | None:
        """Return (path, error) of the track the last barrier could not decode, if so."""
        return self._failure

    @callback
    def _on_failed(self, path: str, error: str) -> None:
        if self._loading:
            self._failure = (path, error)  # the player may not be on that track yet
        else:
            self._report(path, error)

    @callback
    def _report(self, path: str, error: str) -> None:
        """Like mpv for the box: the track failed, then ended (the player goes on to the next)."""
        self._cancel_end()
        self._listener(OutputEvent(OutputEventType.FAILED, path=path, error=error))
        self._listener(OutputEvent(OutputEventType.END))
