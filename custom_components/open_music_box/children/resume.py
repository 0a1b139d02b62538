"""Resume points: an audiobook starts again where it stopped, an album starts over.

The players stay unaware of modes: this class watches the box's player and its rooms' and writes,
per audiobook, the track and position it was at — on pause, stop, seek and track change, every
10 s while playing, and when the box closes (Home Assistant stops, or the entry reloads).
`MusicBox.async_play_playlist` asks `start_point` where to begin.

A resume point belongs to the audiobook, not to one box: boxes on the same library folder share
them. Each box keeps the points it wrote (with when), and starts from the newest point any loaded
box of the folder has; an audiobook made (or unmade) on one of them is one on all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
import os
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
import homeassistant.util.dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..catalog import Catalog, CatalogChange
from ..const import DOMAIN
from ..models import Track
from ..playback.player import Player, PlayState, interpolate
from ..storage import BoxStore, StoredResumePoint

SAVE_INTERVAL = timedelta(seconds=10)

# Every loaded box's Resume, by entry id: the boxes on the same folder share resume points.
_SHELVES: HassKey[dict[str, Resume]] = HassKey(f"{DOMAIN}_resume")


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
        """Initialize the resume."""
        self._hass = hass
        self._store = store
        self._catalog = catalog
        self._players = [player]
        self._seen: dict[int, _Seen] = {}  # by id() of the player
        self._unsubs: list[Callable[[], None]] = []
        self.folder_key = os.path.normpath(str(catalog.root))  # the folder the boxes share
        self._entry_id = str(id(self))

    # Stored data (setdefault: files written before this feature have neither key) ------------

    @property
    def _modes(self) -> dict[str, str]:
        return self._store.data.setdefault("playlist_modes", {})

    @property
    def points(self) -> dict[str, StoredResumePoint]:
        """Return this box's resume points by playlist id (its stored section)."""
        return self._store.data.setdefault("resume_points", {})

    # Life cycle -----------------------------------------------------------------

    @callback
    def async_start(self, rooms: list[Player] | None = None) -> None:
        """Follow the players and the catalog (after the store is loaded and the first scan)."""
        self._hass.data.setdefault(_SHELVES, {})[self._entry_id] = self
        self._prune()  # playlists deleted while Home Assistant was off
        self._players += rooms or []
        for player in self._players:
            self._seen[id(player)] = self._look(player)
            self._unsubs += [
                player.async_add_listener(partial(self._on_player, player)),
                player.async_add_finished_listener(self._on_finished),
            ]
        self._unsubs += [
            self._catalog.async_add_change_listener(self._on_catalog),
            async_track_time_interval(
                self._hass, self._on_interval, SAVE_INTERVAL, name=f"{DOMAIN} resume point"
            ),
        ]

    @callback
    def async_stop(self) -> None:
        """Write where the players are now (the box closes), then stop following them."""
        for player in self._players:
            self._record_current(player)
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        shelves = self._hass.data.get(_SHELVES, {})
        if shelves.get(self._entry_id) is self:
            del shelves[self._entry_id]

    def _shelf(self) -> list[Resume]:
        """Return this box and the other loaded boxes on the same library folder."""
        others = [
            resume
            for resume in self._hass.data.get(_SHELVES, {}).values()
            if resume is not self and resume.folder_key == self.folder_key
        ]
        return [self, *others]

    # Modes -----------------------------------------------------------------

    def owns_audiobook(self, playlist_id: str) -> bool:
        """Return True when this box itself marked the playlist as an audiobook."""
        return self._modes.get(playlist_id) == PlaylistMode.AUDIOBOOK

    def mode(self, playlist_id: str) -> PlaylistMode:
        """Return a playlist's mode (an audiobook on any box of the folder is one here)."""
        if any(resume.owns_audiobook(playlist_id) for resume in self._shelf()):
            return PlaylistMode.AUDIOBOOK
        return PlaylistMode.ALBUM

    @callback
    def set_mode(self, playlist_id: str, mode: PlaylistMode) -> None:
        """Set a playlist's mode on every box of the folder; an album forgets its points."""
        self._catalog.require_playlist(playlist_id)
        for resume in self._shelf():
            resume.set_own_mode(playlist_id, mode)

    @callback
    def set_own_mode(self, playlist_id: str, mode: PlaylistMode) -> None:
        """Set the mode on this box only (set_mode sets it on every box of the folder)."""
        if mode == PlaylistMode.AUDIOBOOK:
            self._modes[playlist_id] = PlaylistMode.AUDIOBOOK.value
        else:
            self._modes.pop(playlist_id, None)
            self.points.pop(playlist_id, None)
        self._store.schedule_save()
        for player in self._players:  # made an audiobook while it plays: it resumes from here
            self._record_current(player)

    # Resume points -----------------------------------------------------------------

    def point(self, playlist_id: str) -> StoredResumePoint | None:
        """Return an audiobook's resume point (the newest of the folder's boxes), if any."""
        point = self._newest(playlist_id)
        if point is None:
            return None
        return {"track_id": point["track_id"], "position": point["position"]}

    def _newest(self, playlist_id: str) -> StoredResumePoint | None:
        points = [
            point
            for resume in self._shelf()
            if (point := resume.points.get(playlist_id)) is not None
        ]
        return max(points, key=lambda p: float(p.get("at", 0.0)), default=None)

    @callback
    def start_point(self, playlist_id: str, tracks: list[Track]) -> tuple[str | None, float]:
        """Return (track id, position) to start a playlist at; (None, 0) is the beginning."""
        if self.mode(playlist_id) is not PlaylistMode.AUDIOBOOK:
            return None, 0.0
        if (point := self._newest(playlist_id)) is None:  # the newest, whichever box wrote it
            return None, 0.0
        if not any(track.id == point["track_id"] for track in tracks):
            # Its track left the playlist (file deleted, playlist edited): start over.
            self._drop_everywhere(playlist_id)
            return None, 0.0
        return point["track_id"], max(0.0, float(point["position"]))

    @callback
    def _record(self, playlist_id: str | None, track_id: str | None, position: float) -> None:
        if playlist_id is None or track_id is None:
            return
        if self.mode(playlist_id) is not PlaylistMode.AUDIOBOOK:
            return
        position = round(max(0.0, position), 1)
        current = self.points.get(playlist_id)
        if current is None or (current["track_id"], current["position"]) != (track_id, position):
            self.points[playlist_id] = {
                "track_id": track_id,
                "position": position,
                "at": dt_util.utcnow().timestamp(),
            }
            self._store.schedule_save()

    @callback
    def _record_current(self, player: Player) -> None:
        if player.state is not PlayState.IDLE and (track := player.current) is not None:
            self._record(player.playlist_id, track.id, player.current_position())

    @callback
    def _drop_everywhere(self, playlist_id: str) -> None:
        for resume in self._shelf():
            resume.drop_point(playlist_id)

    @callback
    def drop_point(self, playlist_id: str) -> None:
        """Forget this box's resume point of a playlist."""
        if self.points.pop(playlist_id, None) is not None:
            self._store.schedule_save()

    # Watching the player -----------------------------------------------------------------

    def _look(self, player: Player) -> _Seen:
        track = player.current
        return _Seen(
            player.playlist_id,
            None if track is None else track.id,
            player.state,
            player.position,
            player.position_updated_at,
        )

    @callback
    def _on_player(self, player: Player) -> None:
        seen, previous = self._look(player), self._seen.get(id(player))
        self._seen[id(player)] = seen
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
        """Played to its end: next time it starts over, on every box of the folder."""
        if playlist_id is not None:
            self._drop_everywhere(playlist_id)

    @callback
    def _on_interval(self, _now: datetime) -> None:
        for player in self._players:
            if player.state is PlayState.PLAYING:
                self._record_current(player)

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
        for playlist_id in set(self._modes) | set(self.points):
            playlist = self._catalog.playlist(playlist_id)
            point = self.points.get(playlist_id)
            if playlist is None:
                self._modes.pop(playlist_id, None)
                self.points.pop(playlist_id, None)
                changed = True
            elif point is not None and point["track_id"] not in playlist.track_ids:
                del self.points[playlist_id]
                changed = True
        if changed:
            self._store.schedule_save()

    def diagnostics(self) -> dict[str, Any]:
        """Return how many audiobooks and resume points the box keeps."""
        return {"audiobooks": len(self._modes), "resume_points": len(self.points)}
