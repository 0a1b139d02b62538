"""The box: a queue played through one output, with shuffle, repeat, volume cap and recovery.

What the output reports (advances, ends, tracks it could not play, a dead output) is followed
by player_output.py; the states and settings are in player_types.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
import logging
import random

from homeassistant.components.media_player import MediaPlayerEnqueue, RepeatMode
from homeassistant.core import HomeAssistant, callback
import homeassistant.util.dt as dt_util

from ..listeners import Listeners
from ..models import Track
from .outputs.base import Output, OutputError
from .player_output import OutputFollower
from .player_types import OutputFactory, PlayerSettings, PlayState, following, interpolate

__all__ = [
    "OutputFactory",
    "PlayState",
    "Player",
    "PlayerSettings",
    "interpolate",
]

_LOGGER = logging.getLogger(__name__)

# Slider and voice levels are floats: a request this close to the maximum is not "limited".
VOLUME_TOLERANCE = 0.005


async def _playable(_track: Track) -> None:
    """Every track may be played (a room's player: its box checks the library)."""


class Player:
    """Holds the queue and the one true playback state; drives the output; tells listeners."""

    def __init__(
        self,
        hass: HomeAssistant,
        output_factory: OutputFactory,
        settings: PlayerSettings,
        *,
        require: Callable[[Track], Awaitable[None]] | None = None,
    ) -> None:
        """Initialize the player."""
        self._hass = hass
        # Raises a translated error when a track cannot be played now (its folder is gone).
        self._require = require or _playable
        self.output_factory = output_factory
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
        self.repeat = RepeatMode.OFF
        self.playlist_id: str | None = None
        # Survives clearing the queue: "play" on an empty, idle box plays it again.
        self.last_playlist_id: str | None = None
        self.track_starts = 0  # counts loads and gapless advances: each is a new track start
        self.output_ok = False
        # Position anchor: where the track was at `position_updated_at` (the frontend interpolates).
        self.position = 0.0
        self.position_updated_at: datetime = dt_util.utcnow()
        self._listeners = Listeners[[]]()
        self.finished_listeners = Listeners[[str | None]]()
        self._limited_listeners = Listeners[[float, float]]()
        self.lock = asyncio.Lock()
        self._follower = OutputFollower(hass, self)
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
        return self.finished_listeners.add(listener)

    @callback
    def async_add_skipped_listener(
        self, listener: Callable[[Track, str], None]
    ) -> Callable[[], None]:
        """Call `listener(track, reason)` when the output could not play a track."""
        return self._follower.skipped.add(listener)

    @callback
    def async_add_volume_limited_listener(
        self, listener: Callable[[float, float], None]
    ) -> Callable[[], None]:
        """Call `listener(requested, maximum)` when the maximum limits a requested volume."""
        return self._limited_listeners.add(listener)

    @callback
    def notify_listeners(self) -> None:
        """Tell the listeners the state changed."""
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
    def anchor(self, position: float) -> None:
        """Set the position, as of now (the base of `current_position`)."""
        self.position = max(0.0, position)
        self.position_updated_at = dt_util.utcnow()

    def next_pos(self) -> int | None:
        """Return the position in `order` that plays after this one (None: the end)."""
        return following(len(self.order), self.pos, self.repeat)

    def next_track(self) -> Track | None:
        """Return the track that plays after this one (None: the end)."""
        nxt = self.next_pos()
        return None if nxt is None else self.queue[self.order[nxt]]

    # Life cycle -----------------------------------------------------------------

    async def async_start(self) -> None:
        """Open the output and apply the volume; raise OutputError when it cannot be opened."""
        # Set first: an output may report "unavailable" while it starts (entity not there yet).
        self.output_ok = True
        try:
            await self.output.async_start(self._follower.on_event)
        except OutputError:
            self.output_ok = False
            raise
        await self.output.async_set_volume(self.volume)
        await self.output.async_set_mute(self.muted)

    def is_closed(self) -> bool:
        """Return True once closed (a method, so that mypy re-reads it after an await)."""
        return self._closed

    async def async_close(self) -> None:
        """Release the output."""
        self._closed = True
        self.output_ok = False
        await self._follower.async_close()
        await self.output.async_close()

    # Commands -----------------------------------------------------------------

    async def async_play_tracks(
        self,
        tracks: Sequence[Track],
        enqueue: MediaPlayerEnqueue = MediaPlayerEnqueue.REPLACE,
        start_index: int = 0,
        playlist_id: str | None = None,
        *,
        position: float = 0.0,
    ) -> None:
        """Queue tracks; REPLACE (from `position` in the start track) and PLAY play at once."""
        if not tracks:
            return
        if enqueue is MediaPlayerEnqueue.REPLACE or not self.queue:
            await self._require(tracks[start_index])  # before the queue changes
        elif enqueue is MediaPlayerEnqueue.PLAY:
            await self._require(tracks[0])
        async with self.lock:
            if enqueue is MediaPlayerEnqueue.REPLACE or not self.queue:
                self.queue = list(tracks)
                self.playlist_id = playlist_id
                self._follower.new_queue()
                self.last_playlist_id = playlist_id or self.last_playlist_id
                self.order = self._new_order(first=start_index)
                self.pos = 0 if self.shuffle else start_index
                await self.load_current(position=position, paused=False)
                return
            self._insert(list(tracks), None if enqueue is MediaPlayerEnqueue.ADD else self.pos + 1)
            if enqueue is MediaPlayerEnqueue.PLAY:
                self.pos += 1
                await self.load_current(position=0.0, paused=False)
            else:
                await self.refresh_next()
                self.notify_listeners()

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
        async with self.lock:
            self.queue, self.order, self.pos = list(tracks), list(order), pos
            self.playlist_id = playlist_id
            self.last_playlist_id = playlist_id or self.last_playlist_id
            await self.load_current(position=position, paused=True)

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
        async with self.lock:
            if self.state is PlayState.PAUSED:
                await self.output.async_play()
                self.state = PlayState.PLAYING
                self.anchor(self.position)
                self.notify_listeners()
            elif self.state is PlayState.IDLE and self.queue:
                await self.load_current(position=0.0, paused=False)

    async def async_pause(self) -> None:
        """Pause."""
        async with self.lock:
            if self.state is not PlayState.PLAYING:
                return
            position = await self.output.async_get_position()
            await self.output.async_pause()
            self.state = PlayState.PAUSED
            self.anchor(self.current_position() if position is None else position)
            self.notify_listeners()

    async def async_toggle(self) -> None:
        """Pause when playing, play otherwise."""
        if self.state is PlayState.PLAYING:
            await self.async_pause()
        else:
            await self.async_play()

    async def async_stop(self) -> None:
        """Stop; the queue stays and plays again from its current track."""
        async with self.lock:
            if self.state is not PlayState.IDLE:
                await self.stop_locked()

    async def stop_locked(self) -> None:
        """Stop the output and go idle (the caller holds `lock`)."""
        await self.output.async_stop()
        self.state = PlayState.IDLE
        self.anchor(0.0)
        self.notify_listeners()

    async def async_clear(self) -> None:
        """Stop and empty the queue."""
        async with self.lock:
            self.queue, self.order, self.pos, self.playlist_id = [], [], 0, None
            await self.stop_locked()

    async def async_next(self) -> None:
        """Go to the next track (wraps with repeat all; at the end of the queue: idle)."""
        async with self.lock:
            if not self.order:
                return
            if self.pos + 1 < len(self.order):
                self.pos += 1
            elif self.repeat is RepeatMode.ALL:
                self.pos = 0
            else:
                await self.stop_locked()
                return
            await self.load_current(position=0.0, paused=self.state is PlayState.PAUSED)

    async def async_previous(self) -> None:
        """Restart the track when past the configured seconds, else go to the previous track."""
        if self.current_position() > self.settings.previous_restart_seconds:
            await self.async_seek(0.0)
            return
        async with self.lock:
            if not self.order:
                return
            if self.pos > 0:
                self.pos -= 1
            elif self.repeat is RepeatMode.ALL:
                self.pos = len(self.order) - 1
            await self.load_current(position=0.0, paused=self.state is PlayState.PAUSED)

    async def async_seek(self, position: float) -> None:
        """Seek within the current track."""
        async with self.lock:
            track = self.current
            if track is None or self.state is PlayState.IDLE:
                return
            if track.duration is not None:
                position = min(position, track.duration)
            await self.output.async_seek(max(0.0, position))
            self.anchor(position)
            self.notify_listeners()

    async def async_set_volume(self, level: float) -> None:
        """Set the volume within the floor and the maximum (and tell when the maximum cut it)."""
        maximum = self.settings.max_volume
        self.volume_limited = level > maximum + VOLUME_TOLERANCE
        self.volume = self.settings.clamp(level)
        await self.output.async_set_volume(self.volume)
        self.notify_listeners()
        if self.volume_limited:
            self._limited_listeners.notify(level, maximum)

    async def async_set_mute(self, muted: bool) -> None:
        """Mute or unmute."""
        self.muted = muted
        await self.output.async_set_mute(muted)
        self.notify_listeners()

    async def async_set_shuffle(self, shuffle: bool) -> None:
        """Shuffle the rest of the queue (the current track keeps playing), or restore the order."""
        async with self.lock:
            if shuffle == self.shuffle:
                return
            self.shuffle = shuffle
            if self.order:
                current = self.order[self.pos]
                self.order = self._new_order(first=current)
                self.pos = 0 if shuffle else current
                await self.refresh_next()
            self.notify_listeners()

    async def async_set_repeat(self, repeat: RepeatMode) -> None:
        """Set the repeat mode; it decides which track the output prepares next."""
        async with self.lock:
            self.repeat = repeat
            await self.refresh_next()
            self.notify_listeners()

    async def async_apply_settings(self, settings: PlayerSettings) -> None:
        """Apply new options; a lower maximum (or a higher floor) moves the volume at once."""
        self.settings = settings
        if abs(settings.clamp(self.volume) - self.volume) > VOLUME_TOLERANCE / 10:
            await self.async_set_volume(settings.clamp(self.volume))
        else:
            self.notify_listeners()  # the cap is part of what clients are shown (max_volume)

    # Output plumbing -----------------------------------------------------------------

    async def load_current(self, position: float, paused: bool) -> None:
        """Load the current track at `position` (the caller holds `lock`)."""
        track = self.current
        if track is None:
            return
        await self._require(track)
        self._follower.loaded()
        await self.output.async_load(track, position, paused, self.next_track())
        self.track_starts += 1
        self.state = PlayState.PAUSED if paused else PlayState.PLAYING
        self.anchor(position)
        self.notify_listeners()

    async def refresh_next(self) -> None:
        """Tell the output which track to prepare next (gapless)."""
        if self.state is not PlayState.IDLE:
            await self.output.async_set_next(self.next_track())
