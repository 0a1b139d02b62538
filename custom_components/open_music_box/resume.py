"""Resume points: an audiobook starts again where it stopped, an album starts over.

The player stays unaware of modes: this class watches it and writes, per audiobook, the track
and position it was at — on pause, stop, seek and track change, every 10 s while playing, and when
the box closes (Home Assistant stops, or the entry reloads). `MusicBox.async_play_playlist` asks
`start_point` where to begin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
import homeassistant.util.dt as dt_util

from .catalog import Catalog, CatalogChange
from .const import DOMAIN
from .models import Track
from .playback.player import Player, PlayState, interpolate
from .storage import BoxStore, StoredResumePoint

SAVE_INTERVAL = timedelta(seconds=10)


class PlaylistMode(StrEnum):
    """How a playlist starts."""

    ALBUM = "album"  # from its first track every time (the default, not stored)
    AUDIOBOOK = "audiobook"  # from the track and position where it stopped


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the player was doing at its last change."""

    playlist_id: str | None
    track_id: str | None
    state: PlayState
    position: float
    updated_at: datetime

    def position_at(self, now: datetime) -> float:
        """Return where the track was at `now`, from this anchor."""
        return interpolate(self.state, self.position, self.updated_at, now)


class Resume:
    """Playlist modes and the resume points of audiobooks, kept in the box's Store."""

    def __init__(
        self, hass: HomeAssistant, store: BoxStore, catalog: Catalog, player: Player
    ) -> None:
        self._hass = hass
        self._store = store
        self._catalog = catalog
        self._player = player
        self._seen: _Seen | None = None
        self._unsubs: list[Callable[[], None]] = []

    # Stored data (setdefault: files written before this feature have neither key) ------------

    @property
    def _modes(self) -> dict[str, str]:
        return self._store.data.setdefault("playlist_modes", {})

    @property
    def _points(self) -> dict[str, StoredResumePoint]:
        return self._store.data.setdefault("resume_points", {})

    # Life cycle -----------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Follow the player and the catalog (after the store is loaded and the first scan)."""
        self._prune()  # playlists deleted while Home Assistant was off
        self._seen = self._look()
        self._unsubs += [
            self._player.async_add_listener(self._on_player),
            self._player.async_add_finished_listener(self._on_finished),
            self._catalog.async_add_change_listener(self._on_catalog),
            async_track_time_interval(
                self._hass, self._on_interval, SAVE_INTERVAL, name=f"{DOMAIN} resume point"
            ),
        ]

    @callback
    def async_stop(self) -> None:
        """Write where the player is now (the box closes), then stop following it."""
        self._record_current()
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()

    # Modes -----------------------------------------------------------------

    def mode(self, playlist_id: str) -> PlaylistMode:
        """Return a playlist's mode."""
        if self._modes.get(playlist_id) == PlaylistMode.AUDIOBOOK:
            return PlaylistMode.AUDIOBOOK
        return PlaylistMode.ALBUM

    @callback
    def set_mode(self, playlist_id: str, mode: PlaylistMode) -> None:
        """Set a playlist's mode; an album forgets its resume point."""
        self._catalog.require_playlist(playlist_id)
        if mode == PlaylistMode.AUDIOBOOK:
            self._modes[playlist_id] = PlaylistMode.AUDIOBOOK.value
        else:
            self._modes.pop(playlist_id, None)
            self._points.pop(playlist_id, None)
        self._store.schedule_save()
        self._record_current()  # made an audiobook while it plays: it resumes from here

    # Resume points -----------------------------------------------------------------

    def point(self, playlist_id: str) -> StoredResumePoint | None:
        """Return an audiobook's resume point, if it has one."""
        return self._points.get(playlist_id)

    @callback
    def start_point(self, playlist_id: str, tracks: list[Track]) -> tuple[str | None, float]:
        """Return (track id, position) to start a playlist at; (None, 0) is the beginning."""
        if self.mode(playlist_id) is not PlaylistMode.AUDIOBOOK:
            return None, 0.0
        if (point := self._points.get(playlist_id)) is None:
            return None, 0.0
        if not any(track.id == point["track_id"] for track in tracks):
            # Its track left the playlist (file deleted, playlist edited): start over.
            self._drop_point(playlist_id)
            return None, 0.0
        return point["track_id"], max(0.0, float(point["position"]))

    @callback
    def _record(self, playlist_id: str | None, track_id: str | None, position: float) -> None:
        if playlist_id is None or track_id is None:
            return
        if self.mode(playlist_id) is not PlaylistMode.AUDIOBOOK:
            return
        point: StoredResumePoint = {"track_id": track_id, "position": round(max(0.0, position), 1)}
        if self._points.get(playlist_id) != point:
            self._points[playlist_id] = point
            self._store.schedule_save()

    @callback
    def _record_current(self) -> None:
        player = self._player
        if player.state is not PlayState.IDLE and (track := player.current) is not None:
            self._record(player.playlist_id, track.id, player.current_position())

    @callback
    def _drop_point(self, playlist_id: str) -> None:
        if self._points.pop(playlist_id, None) is not None:
            self._store.schedule_save()

    # Watching the player -----------------------------------------------------------------

    def _look(self) -> _Seen:
        player = self._player
        track = player.current
        return _Seen(
            player.playlist_id,
            None if track is None else track.id,
            player.state,
            player.position,
            player.position_updated_at,
        )

    @callback
    def _on_player(self) -> None:
        seen, previous = self._look(), self._seen
        self._seen = seen
        if seen == previous:  # volume, mute, shuffle...: not a move
            return
        if (
            previous is not None
            and previous.state is not PlayState.IDLE
            and (seen.state is PlayState.IDLE or seen.playlist_id != previous.playlist_id)
        ):
            # Stopped, finished or replaced: the player has already reset its position, so
            # take where the previous one had got to at this moment.
            self._record(
                previous.playlist_id, previous.track_id, previous.position_at(dt_util.utcnow())
            )
        if seen.state is not PlayState.IDLE:  # paused, resumed, seeked, or a new track
            self._record(seen.playlist_id, seen.track_id, seen.position_at(dt_util.utcnow()))

    @callback
    def _on_finished(self, playlist_id: str | None) -> None:
        """Played to its end: next time it starts over."""
        if playlist_id is not None:
            self._drop_point(playlist_id)

    @callback
    def _on_interval(self, _now: datetime) -> None:
        if self._player.state is PlayState.PLAYING:
            self._record_current()

    @callback
    def _on_catalog(self, _change: CatalogChange) -> None:
        self._prune()

    @callback
    def _prune(self) -> None:
        """Forget playlists that are gone and points whose track left their playlist.

        Only while the folder is there: an unplugged drive must not erase the audiobooks.
        """
        if not self._catalog.available:
            return
        changed = False
        for playlist_id in set(self._modes) | set(self._points):
            playlist = self._catalog.playlist(playlist_id)
            point = self._points.get(playlist_id)
            if playlist is None:
                self._modes.pop(playlist_id, None)
                self._points.pop(playlist_id, None)
                changed = True
            elif point is not None and point["track_id"] not in playlist.track_ids:
                del self._points[playlist_id]
                changed = True
        if changed:
            self._store.schedule_save()

    def diagnostics(self) -> dict[str, Any]:
        """Return how many audiobooks and resume points the box keeps."""
        return {"audiobooks": len(self._modes), "resume_points": len(self._points)}
