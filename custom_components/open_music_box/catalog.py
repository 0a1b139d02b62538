"""What the box can play: the last library scan plus the user's own playlists (persisted)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
import logging
import os
from pathlib import Path, PurePosixPath
import uuid

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN, PLAYLIST_EXTENSIONS
from .library import (
    LibraryMissingError,
    MetadataCache,
    folder_playlist_id,
    is_under,
    m3u_playlist_id,
    scan_library,
    track_id,
    track_key,
)
from .listeners import Listeners
from .models import LibraryScan, Playlist, PlaylistKind, Track
from .storage import BoxStore

_LOGGER = logging.getLogger(__name__)

MAX_NAME_LENGTH = 100


class ChangeKind(StrEnum):
    """What changed in the catalog."""

    LIBRARY = "library"  # a rescan finished (or the folder vanished): everything may differ
    PLAYLISTS = "playlists"  # the index: a playlist was created, renamed or deleted
    PLAYLIST = "playlist"  # the tracks of the playlists named in `playlist_ids`


@dataclass(frozen=True, slots=True)
class CatalogChange:
    """One change, for listeners that publish it (the event log's live state)."""

    kind: ChangeKind
    playlist_ids: tuple[str, ...] = ()


def validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    """Return a translated error about bad input."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


class Catalog:
    """Library scan + user playlists. Lives in the event loop; scanning runs in the executor."""

    def __init__(self, hass: HomeAssistant, root: Path, store: BoxStore) -> None:
        """Initialize the catalog."""
        self._hass = hass
        self.root = root
        self._store = store
        self._cache = MetadataCache()
        self.scan = LibraryScan()
        self.available = False
        self._missing_logged = False
        self._listeners = Listeners[[CatalogChange]]()
        self._scan_lock = asyncio.Lock()  # the metadata cache serves one scan at a time

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` whenever playlists, tracks or availability change."""
        return self.async_add_change_listener(lambda _change: listener())

    @callback
    def async_add_change_listener(
        self, listener: Callable[[CatalogChange], None]
    ) -> Callable[[], None]:
        """Call `listener` with what changed."""
        return self._listeners.add(listener)

    @callback
    def _changed(self, change: CatalogChange) -> None:
        self._listeners.notify(change)

    def playlist_seq(self, playlist_id: str) -> int:
        """Return how many times a user playlist's tracks changed (0 for disk playlists)."""
        stored = self._store.data["playlists"].get(playlist_id)
        return stored.get("seq", 0) if stored else 0

    async def async_rescan(self, *, only_changes: bool = False) -> bool:
        """Scan the library folder in the executor; return False (unavailable) if it is gone.

        With `only_changes` (the folder watch), listeners hear of the scan only when it found
        something new: the watch also sees the box's own writes, already rescanned.
        """
        was = (self.scan, self.available)
        try:
            async with self._scan_lock:
                self.scan = await self._hass.async_add_executor_job(
                    scan_library, self.root, self._hass.config.is_allowed_path, self._cache
                )
        except LibraryMissingError:
            self._log_missing()
            self.available = False
        else:
            self.available = True
            self._missing_logged = False
        if not only_changes or (self.scan, self.available) != was:
            self._changed(CatalogChange(ChangeKind.LIBRARY))
        return self.available

    async def async_folder_exists(self) -> bool:
        """Check the library folder without blocking the loop."""
        return await self._hass.async_add_executor_job(self.root.is_dir)

    @callback
    def mark_unavailable(self) -> None:
        """Mark the folder as vanished; the last scan is kept (it comes back with the folder)."""
        if self.available:
            self._log_missing()
            self.available = False
            self._changed(CatalogChange(ChangeKind.LIBRARY))

    def _log_missing(self) -> None:
        """log-when-unavailable: INFO once when the folder goes (box.py logs its return)."""
        if not self._missing_logged:
            self._missing_logged = True
            _LOGGER.info("Library folder %s is missing", self.root)

    # Lookups -----------------------------------------------------------------

    async def async_file_item(self, path: Path) -> tuple[Track | None, Playlist | None]:
        """Return the track of a file of the library and its playlist, or its m3u playlist.

        (None, None) when the file is outside the library or not in the last scan: what HA's
        media browser plays is then played as a plain file.
        """
        real_root, real = await self._hass.async_add_executor_job(
            lambda: (os.path.realpath(self.root), os.path.realpath(path))
        )
        if not is_under(real, real_root) or real == real_root:
            return None, None
        rel = track_key(real, real_root)
        if os.path.splitext(rel)[1].lower() in PLAYLIST_EXTENSIONS:
            return None, self.scan.playlists.get(m3u_playlist_id(rel))
        track = self.track(track_id(rel))
        if track is None:
            return None, None
        folder = PurePosixPath(rel).parent.as_posix()
        return track, self.scan.playlists.get(folder_playlist_id("" if folder == "." else folder))

    def track(self, track_id: str) -> Track | None:
        """Return a track of the library by id."""
        return self.scan.tracks.get(track_id)

    def playlist(self, playlist_id: str) -> Playlist | None:
        """Return a folder, m3u or user playlist by id."""
        if (found := self.scan.playlists.get(playlist_id)) is not None:
            return found
        if (stored := self._store.data["playlists"].get(playlist_id)) is not None:
            return Playlist(
                playlist_id, stored["name"], PlaylistKind.USER, tuple(stored["track_ids"])
            )
        return None

    def playlists(self) -> list[Playlist]:
        """Return every playlist, sorted by name (case-insensitive)."""
        user = (self.playlist(pid) for pid in self._store.data["playlists"])
        every = [*self.scan.playlists.values(), *(p for p in user if p is not None)]
        return sorted(every, key=lambda p: (p.name.casefold(), p.id))

    def tracks_of(self, playlist: Playlist) -> list[Track]:
        """Return the playable tracks of a playlist (entries whose file is gone are left out)."""
        return [t for tid in playlist.track_ids if (t := self.scan.tracks.get(tid)) is not None]

    def require_playlist(self, playlist_id: str) -> Playlist:
        """Return a playlist or raise a translated error."""
        if (found := self.playlist(playlist_id)) is None:
            raise validation_error("unknown_playlist", playlist_id=playlist_id)
        return found

    def require_tracks(self, track_ids: Iterable[str]) -> list[str]:
        """Check that every id is a track of the library."""
        ids = list(track_ids)
        for tid in ids:
            if tid not in self.scan.tracks:
                raise validation_error("unknown_track", track_id=tid)
        return ids

    # User playlists ------------------------------------------------------------

    def _editable(self, playlist_id: str) -> list[str]:
        playlist = self.require_playlist(playlist_id)
        if playlist.read_only:
            raise validation_error("read_only_playlist", name=playlist.name)
        return self._store.data["playlists"][playlist_id]["track_ids"]

    @staticmethod
    def _valid_name(name: str) -> str:
        clean = name.strip()
        if not clean or len(clean) > MAX_NAME_LENGTH:
            raise validation_error("invalid_playlist_name", max=str(MAX_NAME_LENGTH))
        return clean

    @callback
    def _saved(self, change: CatalogChange) -> None:
        for playlist_id in change.playlist_ids:
            stored = self._store.data["playlists"][playlist_id]
            stored["seq"] = stored.get("seq", 0) + 1
        self._store.schedule_save()
        self._changed(change)

    @callback
    def create_playlist(self, name: str, track_ids: Iterable[str] = ()) -> Playlist:
        """Create a user playlist."""
        clean = self._valid_name(name)
        ids = self.require_tracks(track_ids)
        playlist_id = "u" + uuid.uuid4().hex[:12]
        self._store.data["playlists"][playlist_id] = {"name": clean, "track_ids": ids}
        self._saved(CatalogChange(ChangeKind.PLAYLISTS))
        return self.require_playlist(playlist_id)

    @callback
    def rename_playlist(self, playlist_id: str, name: str) -> None:
        """Rename a user playlist."""
        self._editable(playlist_id)
        self._store.data["playlists"][playlist_id]["name"] = self._valid_name(name)
        self._saved(CatalogChange(ChangeKind.PLAYLISTS))

    @callback
    def delete_playlist(self, playlist_id: str) -> None:
        """Delete a user playlist (folder and m3u playlists live on disk)."""
        self._editable(playlist_id)
        del self._store.data["playlists"][playlist_id]
        self._saved(CatalogChange(ChangeKind.PLAYLISTS))

    @callback
    def add_tracks(
        self, playlist_id: str, track_ids: Iterable[str], position: int | None = None
    ) -> None:
        """Insert tracks at `position` (default: the end)."""
        tracks = self._editable(playlist_id)
        ids = self.require_tracks(track_ids)
        at = len(tracks) if position is None else max(0, min(position, len(tracks)))
        tracks[at:at] = ids
        self._saved(CatalogChange(ChangeKind.PLAYLIST, (playlist_id,)))

    @callback
    def remove_tracks(self, playlist_id: str, track_ids: Iterable[str]) -> None:
        """Remove every occurrence of the given tracks."""
        tracks = self._editable(playlist_id)
        drop = set(track_ids)
        missing = drop.difference(tracks)
        if missing:
            raise validation_error("track_not_in_playlist", track_id=min(missing))
        tracks[:] = [t for t in tracks if t not in drop]
        self._saved(CatalogChange(ChangeKind.PLAYLIST, (playlist_id,)))

    @callback
    def reorder(self, playlist_id: str, track_ids: list[str]) -> None:
        """Set a new order; it must hold exactly the same entries."""
        tracks = self._editable(playlist_id)
        if sorted(track_ids) != sorted(tracks):
            raise validation_error("not_a_permutation")
        tracks[:] = track_ids
        self._saved(CatalogChange(ChangeKind.PLAYLIST, (playlist_id,)))

    @callback
    def move_track(
        self, source_id: str, target_id: str, track_id: str, position: int | None = None
    ) -> None:
        """Move one track (its first occurrence) from one user playlist to another."""
        source = self._editable(source_id)
        target = self._editable(target_id)
        if track_id not in source:
            raise validation_error("track_not_in_playlist", track_id=track_id)
        source.remove(track_id)
        at = len(target) if position is None else max(0, min(position, len(target)))
        target.insert(at, track_id)
        self._saved(CatalogChange(ChangeKind.PLAYLIST, (source_id, target_id)))
