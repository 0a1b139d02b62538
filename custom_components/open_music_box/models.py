"""Immutable data shared by the library, the player and the entities."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class PlaylistKind(StrEnum):
    """Where a playlist comes from."""

    FOLDER = "folder"  # a subfolder of the library: read-only view of the disk
    M3U = "m3u"  # an .m3u/.m3u8 file in the library: read-only view of the disk
    USER = "user"  # made through the integration, stored with helpers.storage


@dataclass(frozen=True, slots=True)
class Track:
    """One playable item: a file of the library (or an m3u entry), or a URL."""

    id: str
    path: str  # absolute file path, or an http(s) URL
    title: str
    artist: str | None = None
    album: str | None = None
    track_number: int | None = None
    duration: float | None = None  # seconds
    has_cover: bool = False

    @property
    def is_url(self) -> bool:
        """Return True when the track is a remote URL rather than a file."""
        return self.path.startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class Playlist:
    """An ordered list of track ids."""

    id: str
    name: str
    kind: PlaylistKind
    track_ids: tuple[str, ...]

    @property
    def read_only(self) -> bool:
        """Folder and m3u playlists mirror the disk; only user playlists change."""
        return self.kind is not PlaylistKind.USER


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    """Something the scan could not use, with the reason (shown in diagnostics)."""

    path: str
    reason: str  # missing, outside_allowed, not_audio, unsupported, unreadable, corrupt
    playlist: str | None = None


@dataclass(frozen=True, slots=True)
class LibraryScan:
    """The result of one scan of the library folder."""

    tracks: dict[str, Track] = field(default_factory=dict)
    playlists: dict[str, Playlist] = field(default_factory=dict)  # folder and m3u only
    skipped: tuple[SkippedEntry, ...] = ()
