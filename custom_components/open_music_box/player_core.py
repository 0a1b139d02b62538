"""The player's core: its state, listeners, the output it drives, and what that output reports.

`player.Player` adds the commands. Split by job: this module follows the output (advances,
ends, tracks it could not play, a dead output replaced); the other one changes the queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import logging

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later
import homeassistant.util.dt as dt_util

from .listeners import Listeners
from .models import Track
from .outputs.base import Output, OutputError, OutputEvent, OutputEventType

_LOGGER = logging.getLogger(__name__)

RECOVERY_DELAY_SECONDS = 5.0


class PlayState(StrEnum):
    """What the box is doing."""

    IDLE = "idle"
    PLAYING = "playing"
    PAUSED = "paused"


class Repeat(StrEnum):
    """Repeat modes, the same values as Home Assistant's RepeatMode."""

    OFF = "off"
    ONE = "one"
    ALL = "all"


class Enqueue(StrEnum):
    """Where new tracks go, the same values as Home Assistant's MediaPlayerEnqueue."""

    PLAY = "play"
    NEXT = "next"
    ADD = "add"
    REPLACE = "replace"


@dataclass(slots=True)
class PlayerSettings:
    """The options that shape the player (from the config entry's options)."""

    max_volume: float = 1.0  # 0..1
    default_volume: float = 0.5  # 0..1
    previous_restart_seconds: float = 3.0


OutputFactory = Callable[[], Output]


def interpolate(state: PlayState, position: float, updated_at: datetime, now: datetime) -> float:
    """Return where a track anchored at `position` (at `updated_at`) is at `now`."""
    if state is PlayState.PLAYING:
        return position + (now - updated_at).total_seconds()
    return position


class PlayerCore:
    """Holds the queue and the one true playback state; drives the output; tells listeners."""

    def __init__(
        self,
        hass: HomeAssistant,
        output_factory: OutputFactory,
        settings: PlayerSettings,
        *,
        require: Callable[[Track], None] | None = None,
    ) -> None:
        self._hass = hass
        # Raises a translated error when a track cannot be played now (its folder is gone).
        self._require = require or (lambda _track: None)
        self._output_factory = output_factory
        self.output: Output = output_factory()
        self.settings = settings
        self.queue: list[Track] = []
        self.order: list[int] = []  # play order: indexes into queue
        self.pos = 0  # index into order
        self.state = PlayState.IDLE
        self.volume = min(settings.default_volume, settings.max_volume)
        self.muted = False
        self.shuffle = False
        self.repeat = Repeat.OFF
        self.playlist_id: str | None = None
        self.track_starts = 0  # counts loads and gapless advances: each is a new track start
        self.output_ok = False
        # Position anchor: where the track was at `position_updated_at` (the frontend interpolates).
        self.position = 0.0
        self.position_updated_at: datetime = dt_util.utcnow()
        self._listeners = Listeners[[]]()
        self._finished_listeners = Listeners[[str | None]]()
        self._skipped_listeners = Listeners[[Track, str]]()
        self._skip_pending = False  # the current track failed: its end goes on to the next
        self._failed_in_row = 0  # a queue that is all failures stops instead of looping
        self._lock = asyncio.Lock()
        self._recovering = False
        self._closed = False

    # Listeners -----------------------------------------------------------------

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every state change."""
        return self._listeners.add(listener)

    @callback
    def async_add_finished_listener(
        self, listener: Callable[[str | None], None]
    ) -> Callable[[], None]:
        """Call `listener(playlist_id)` when the queue plays to its end (not on stop)."""
        return self._finished_listeners.add(listener)

    @callback
    def async_add_skipped_listener(
        self, listener: Callable[[Track, str], None]
    ) -> Callable[[], None]:
        """Call `listener(track, reason)` when the output could not play a track."""
        return self._skipped_listeners.add(listener)

    @callback
    def _notify(self) -> None:
        self._listeners.notify()

    # Derived state -----------------------------------------------------------------

    @property
    def current(self) -> Track | None:
        """Return the track at the play position."""
        if not self.order:
            return None
        return self.queue[self.order[self.pos]]

    @property
    def available(self) -> bool:
        """Return True when the output works."""
        return self.output_ok

    def current_position(self) -> float:
        """Return the position now, from the anchor (no output call)."""
        return interpolate(self.state, self.position, self.position_updated_at, dt_util.utcnow())

    @callback
    def _anchor(self, position: float) -> None:
        self.position = max(0.0, position)
        self.position_updated_at = dt_util.utcnow()

    def _next_pos(self) -> int | None:
        if not self.order:
            return None
        if self.repeat is Repeat.ONE:
            return self.pos
        if self.pos + 1 < len(self.order):
            return self.pos + 1
        return 0 if self.repeat is Repeat.ALL else None

    def _next_track(self) -> Track | None:
        nxt = self._next_pos()
        return None if nxt is None else self.queue[self.order[nxt]]

    # Life cycle -----------------------------------------------------------------

    async def async_start(self) -> None:
        """Open the output and apply the volume; raise OutputError when it cannot be opened."""
        # Set first: an output may report "unavailable" while it starts (entity not there yet).
        self.output_ok = True
        try:
            await self.output.async_start(self._on_output_event)
        except OutputError:
            self.output_ok = False
            raise
        await self.output.async_set_volume(self.volume)
        await self.output.async_set_mute(self.muted)

    async def async_close(self) -> None:
        """Release the output."""
        self._closed = True
        self.output_ok = False
        await self.output.async_close()

    async def async_stop(self) -> None:
        """Stop; the queue stays and plays again from its current track."""
        async with self._lock:
            if self.state is not PlayState.IDLE:
                await self._stop()

    async def _stop(self) -> None:
        await self.output.async_stop()
        self.state = PlayState.IDLE
        self._anchor(0.0)
        self._notify()

    # Output plumbing -----------------------------------------------------------------

    async def _load(self, position: float, paused: bool) -> None:
        track = self.current
        if track is None:
            return
        self._require(track)
        self._skip_pending = False
        await self.output.async_load(track, position, paused, self._next_track())
        self.track_starts += 1
        self.state = PlayState.PAUSED if paused else PlayState.PLAYING
        self._anchor(position)
        self._notify()

    async def _refresh_next(self) -> None:
        if self.state is not PlayState.IDLE:
            await self.output.async_set_next(self._next_track())

    @callback
    def _on_output_event(self, event: OutputEvent) -> None:
        """Handle an event from the output (already in the event loop)."""
        if self._closed:
            return
        match event.type:
            case OutputEventType.ADVANCED:
                self._hass.async_create_task(self._async_advanced(), eager_start=True)
            case OutputEventType.FAILED:
                self._on_failed(event)
            case OutputEventType.END:
                if self._skip_pending and self.state is not PlayState.IDLE:
                    self._skip_pending = False
                    self._hass.async_create_task(self._async_skip_failed(), eager_start=True)
                elif self.state is not PlayState.IDLE:
                    self.state = PlayState.IDLE
                    self.pos = 0
                    self._anchor(0.0)
                    self._notify()
                    self._finished_listeners.notify(self.playlist_id)
            case OutputEventType.RESTARTED:
                if event.position is not None and self.state is not PlayState.IDLE:
                    self._anchor(event.position)
                    self._notify()
            case OutputEventType.PAUSE:
                if self.state is not PlayState.IDLE and event.paused is not None:
                    self._anchor(self.current_position())
                    self.state = PlayState.PAUSED if event.paused else PlayState.PLAYING
                    self._notify()
            case OutputEventType.DIED:
                self._hass.async_create_task(self._async_recover(), eager_start=True)
            case OutputEventType.AVAILABLE:
                self.output_ok = bool(event.available)
                self._notify()

    @callback
    def _on_failed(self, event: OutputEvent) -> None:
        """Report a track the output could not play; its end goes on to the next track."""
        track = self.current
        if track is None or track.path != event.path:
            # mpv reports the entry it could not open; ours moved on meanwhile (or never had it)
            track = next((t for t in self.queue if t.path == event.path), None)
        if track is None:
            return
        reason = event.error or "error"
        _LOGGER.warning("Cannot play %s (%s): skipped", track.path, reason)
        self._failed_in_row += 1
        self._skip_pending = track is self.current
        self._skipped_listeners.notify(track, reason)
        if self._failed_in_row >= len(self.queue):  # nothing in the queue plays: stop there
            self._skip_pending = False
            self._hass.async_create_task(self.async_stop(), eager_start=True)

    async def _async_skip_failed(self) -> None:
        """Load the next track after a failed one that ended with nothing prepared."""
        async with self._lock:
            nxt = self._next_pos()
            if nxt is None or nxt == self.pos or self.state is PlayState.IDLE:
                self.state = PlayState.IDLE
                self.pos = 0
                self._anchor(0.0)
                self._notify()
                self._finished_listeners.notify(self.playlist_id)
                return
            self.pos = nxt
            try:
                await self._load(position=0.0, paused=False)
            except HomeAssistantError as err:
                _LOGGER.warning("Cannot go on to the next track: %s", err)
                await self._stop()

    async def _async_advanced(self) -> None:
        """Follow the output onto the track we prepared (gapless) and prepare the next."""
        if not self._skip_pending:
            self._failed_in_row = 0  # the previous track played to its end
        self._skip_pending = False
        async with self._lock:
            nxt = self._next_pos()
            if nxt is None:
                return
            self.pos = nxt
            self.track_starts += 1
            self._anchor(0.0)
            await self._refresh_next()
            self._notify()

    async def _async_recover(self) -> None:
        """Replace a dead output: go unavailable, open a new one, restore what was playing."""
        if self._recovering or self._closed:
            return
        self._recovering = True
        self.output_ok = False
        self._notify()
        position = self.current_position()
        try:
            async with self._lock:
                await self.output.async_close()
                self.output = self._output_factory()
                await self.async_start()
                _LOGGER.warning("Audio output restarted after it stopped unexpectedly")
                if self.state is not PlayState.IDLE and self.current is not None:
                    await self._load(position, paused=self.state is PlayState.PAUSED)
        except OutputError as err:
            _LOGGER.error("Cannot restart the audio output: %s; retrying", err)
            async_call_later(self._hass, RECOVERY_DELAY_SECONDS, self._retry_recover)
        except HomeAssistantError as err:  # the output is back, the track's folder is not
            _LOGGER.warning("Audio output restarted; cannot resume: %s", err)
            self.state = PlayState.IDLE
        finally:
            self._recovering = False
            self._notify()

    @callback
    def _retry_recover(self, _now: datetime) -> None:
        self._hass.async_create_task(self._async_recover(), eager_start=True)
