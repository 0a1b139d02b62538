"""The box: a queue played through one output, with shuffle, repeat, volume cap and recovery.

The commands live here; the state and following the output live in player_core.py.
"""

from __future__ import annotations

from collections.abc import Sequence
import random

from .models import Track
from .player_core import (
    Enqueue,
    OutputFactory,
    PlayerCore,
    PlayerSettings,
    PlayState,
    Repeat,
    interpolate,
)

__all__ = [
    "Enqueue",
    "OutputFactory",
    "PlayState",
    "Player",
    "PlayerSettings",
    "Repeat",
    "interpolate",
]


class Player(PlayerCore):
    """The player with its commands (play, pause, next, seek, volume, shuffle, repeat...)."""

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
        if enqueue is Enqueue.REPLACE or not self.queue:
            self._require(tracks[start_index])  # before the queue changes
        elif enqueue is Enqueue.PLAY:
            self._require(tracks[0])
        async with self._lock:
            if enqueue is Enqueue.REPLACE or not self.queue:
                self.queue = list(tracks)
                self.playlist_id = playlist_id
                self._failed_in_row = 0
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
        """Set the volume, never above the configured maximum."""
        self.volume = max(0.0, min(level, self.settings.max_volume))
        await self.output.async_set_volume(self.volume)
        self._notify()

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
        """Apply new options; a lower maximum lowers the volume at once."""
        self.settings = settings
        if self.volume > settings.max_volume:
            await self.async_set_volume(settings.max_volume)
        else:
            self._notify()  # the cap is part of what clients are shown (hub: max_volume)
