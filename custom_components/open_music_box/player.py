"""The box: a queue played through one output, with shuffle, repeat, volume cap and recovery."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import logging
import random

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
import homeassistant.util.dt as dt_util

from .listeners import Listeners
from .models import Track
from .outputs.base import Output, OutputError, OutputEvent, OutputEventType

_LOGGER = logging.getLogger(__name__)

RECOVERY_DELAY_SECONDS = 5.0
# Slider and voice levels are floats: a request this close to the maximum is not "limited".
VOLUME_TOLERANCE = 0.005


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
    min_volume: float = 0.0  # 0..1; a maximum below it wins (bedtime lowers the maximum)
    default_volume: float = 0.5  # 0..1
    previous_restart_seconds: float = 3.0

    def clamp(self, level: float) -> float:
        """Return `level` within the floor and the maximum."""
        return max(min(self.min_volume, self.max_volume), min(level, self.max_volume), 0.0)


OutputFactory = Callable[[], Output]


def interpolate(state: PlayState, position: float, updated_at: datetime, now: datetime) -> float:
    """Return where a track anchored at `position` (at `updated_at`) is at `now`."""
    if state is PlayState.PLAYING:
        return position + (now - updated_at).total_seconds()
    return position


class Player:
    """Holds the queue and the one true playback state; drives the output; tells listeners."""

    def __init__(
        self, hass: HomeAssistant, output_factory: OutputFactory, settings: PlayerSettings
    ) -> None:
        self._hass = hass
        self._output_factory = output_factory
        self.output: Output = output_factory()
        self.settings = settings
        self.queue: list[Track] = []
        self.order: list[int] = []  # play order: indexes into queue
        self.pos = 0  # index into order
        self.state = PlayState.IDLE
        self.volume = settings.clamp(settings.default_volume)
        self.muted = False
        self.volume_limited = False  # the maximum cut the last requested volume
        self.shuffle = False
        self.repeat = Repeat.OFF
        self.playlist_id: str | None = None
        # Survives clearing the queue: "play" on an empty, idle box plays it again.
        self.last_playlist_id: str | None = None
        self.track_starts = 0  # counts loads and gapless advances: each is a new track start
        self.output_ok = False
        # Position anchor: where the track was at `position_updated_at` (the frontend interpolates).
        self.position = 0.0
        self.position_updated_at: datetime = dt_util.utcnow()
        self._listeners = Listeners[[]]()
        self._finished_listeners = Listeners[[str | None]]()
        self._limited_listeners = Listeners[[float, float]]()
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
    def async_add_volume_limited_listener(
        self, listener: Callable[[float, float], None]
    ) -> Callable[[], None]:
        """Call `listener(requested, maximum)` when the maximum limits a requested volume."""
        return self._limited_listeners.add(listener)

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

    # Commands -----------------------------------------------------------------

    async def async_play_tracks(
        self,
        tracks: Sequence[Track],
        enqueue: Enqueue = Enqueue.REPLACE,
        start_index: int = 0,
        playlist_id: str | None = None,
        *,
        position: float = 0.0,
    ) -> None:
        """Queue tracks; REPLACE (from `position` in the start track) and PLAY play at once."""
        if not tracks:
            return
        async with self._lock:
            if enqueue is Enqueue.REPLACE or not self.queue:
                self.queue = list(tracks)
                self.playlist_id = playlist_id
                self.last_playlist_id = playlist_id or self.last_playlist_id
                self.order = self._new_order(first=start_index)
                self.pos = 0 if self.shuffle else start_index
                await self._load(position=position, paused=False)
                return
            self._insert(list(tracks), None if enqueue is Enqueue.ADD else self.pos + 1)
            if enqueue is Enqueue.PLAY:
                self.pos += 1
                await self._load(position=0.0, paused=False)
            else:
                await self._refresh_next()
                self._notify()

    async def async_restore(
        self,
        tracks: Sequence[Track],
        order: list[int],
        pos: int,
        position: float,
        playlist_id: str | None,
    ) -> None:
        """Bring back a saved queue, paused at `position` of its current track (a restart)."""
        if not tracks or sorted(order) != list(range(len(tracks))) or not 0 <= pos < len(order):
            return
        async with self._lock:
            self.queue, self.order, self.pos = list(tracks), list(order), pos
            self.playlist_id = playlist_id
            self.last_playlist_id = playlist_id or self.last_playlist_id
            await self._load(position=position, paused=True)

    def _insert(self, tracks: list[Track], at: int | None) -> None:
        """Add tracks to the queue, at index `at` of the play order (None: at the end)."""
        first = len(self.queue)
        self.queue.extend(tracks)
        at = len(self.order) if at is None else at
        self.order[at:at] = range(first, first + len(tracks))

    def _new_order(self, first: int = 0) -> list[int]:
        order = list(range(len(self.queue)))
        if self.shuffle:
            rest = [i for i in order if i != first]
            random.shuffle(rest)
            order = [first, *rest]
        return order

    async def async_play(self) -> None:
        """Resume, or start the queue again when idle."""
        async with self._lock:
            if self.state is PlayState.PAUSED:
                await self.output.async_play()
                self.state = PlayState.PLAYING
                self._anchor(self.position)
                self._notify()
            elif self.state is PlayState.IDLE and self.queue:
                await self._load(position=0.0, paused=False)

    async def async_pause(self) -> None:
        """Pause."""
        async with self._lock:
            if self.state is not PlayState.PLAYING:
                return
            position = await self.output.async_get_position()
            await self.output.async_pause()
            self.state = PlayState.PAUSED
            self._anchor(self.current_position() if position is None else position)
            self._notify()

    async def async_toggle(self) -> None:
        """Pause when playing, play otherwise."""
        if self.state is PlayState.PLAYING:
            await self.async_pause()
        else:
            await self.async_play()

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

    async def async_clear(self) -> None:
        """Stop and empty the queue."""
        async with self._lock:
            self.queue, self.order, self.pos, self.playlist_id = [], [], 0, None
            await self._stop()

    async def async_next(self) -> None:
        """Go to the next track (wraps with repeat all; at the end of the queue: idle)."""
        async with self._lock:
            if not self.order:
                return
            if self.pos + 1 < len(self.order):
                self.pos += 1
            elif self.repeat is Repeat.ALL:
                self.pos = 0
            else:
                await self._stop()
                return
            await self._load(position=0.0, paused=self.state is PlayState.PAUSED)

    async def async_previous(self) -> None:
        """Restart the track when past the configured seconds, else go to the previous track."""
        if self.current_position() > self.settings.previous_restart_seconds:
            await self.async_seek(0.0)
            return
        async with self._lock:
            if not self.order:
                return
            if self.pos > 0:
                self.pos -= 1
            elif self.repeat is Repeat.ALL:
                self.pos = len(self.order) - 1
            await self._load(position=0.0, paused=self.state is PlayState.PAUSED)

    async def async_seek(self, position: float) -> None:
        """Seek within the current track."""
        async with self._lock:
            track = self.current
            if track is None or self.state is PlayState.IDLE:
                return
            if track.duration is not None:
                position = min(position, track.duration)
            await self.output.async_seek(max(0.0, position))
            self._anchor(position)
            self._notify()

    async def async_set_volume(self, level: float) -> None:
        """Set the volume within the floor and the maximum (and tell when the maximum cut it)."""
        maximum = self.settings.max_volume
        self.volume_limited = level > maximum + VOLUME_TOLERANCE
        self.volume = self.settings.clamp(level)
        await self.output.async_set_volume(self.volume)
        self._notify()
        if self.volume_limited:
            self._limited_listeners.notify(level, maximum)

    async def async_set_mute(self, muted: bool) -> None:
        """Mute or unmute."""
        self.muted = muted
        await self.output.async_set_mute(muted)
        self._notify()

    async def async_set_shuffle(self, shuffle: bool) -> None:
        """Shuffle the rest of the queue (the current track keeps playing), or restore the order."""
        async with self._lock:
            if shuffle == self.shuffle:
                return
            self.shuffle = shuffle
            if self.order:
                current = self.order[self.pos]
                self.order = self._new_order(first=current)
                self.pos = 0 if shuffle else current
                await self._refresh_next()
            self._notify()

    async def async_set_repeat(self, repeat: Repeat) -> None:
        """Set the repeat mode; it decides which track the output prepares next."""
        async with self._lock:
            self.repeat = repeat
            await self._refresh_next()
            self._notify()

    async def async_apply_settings(self, settings: PlayerSettings) -> None:
        """Apply new options; a lower maximum (or a higher floor) moves the volume at once."""
        self.settings = settings
        if abs(settings.clamp(self.volume) - self.volume) > VOLUME_TOLERANCE / 10:
            await self.async_set_volume(settings.clamp(self.volume))
        else:
            self._notify()  # the cap is part of what clients are shown (hub: max_volume)

    # Output plumbing -----------------------------------------------------------------

    async def _load(self, position: float, paused: bool) -> None:
        track = self.current
        if track is None:
            return
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
            case OutputEventType.END:
                if self.state is not PlayState.IDLE:
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

    async def _async_advanced(self) -> None:
        """Follow the output onto the track we prepared (gapless) and prepare the next."""
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
        finally:
            self._recovering = False
            self._notify()

    @callback
    def _retry_recover(self, _now: datetime) -> None:
        self._hass.async_create_task(self._async_recover(), eager_start=True)
