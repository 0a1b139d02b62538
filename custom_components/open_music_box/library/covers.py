"""Cover art for the media browser: a track's embedded picture, else its folder's image.

And the artist's picture Sendspin players with a screen can show beside it (artist_picture).

Everything here reads the disk: call it from the executor.
"""

from __future__ import annotations

from collections.abc import Iterable
import mimetypes
from pathlib import Path

from ..models import Track
from . import read_artist_picture, read_cover

# The names music players conventionally give a folder's cover, in order of preference.
FOLDER_IMAGES = ("cover.jpg", "cover.jpeg", "cover.png", "folder.jpg", "folder.jpeg", "folder.png")
# A playlist's cover is the first one found among its first few tracks (never a full scan).
PLAYLIST_LOOKAHEAD = 5
MAX_IMAGE_BYTES = 10 * 1024 * 1024
# An artist's picture, by the name Kodi and Jellyfin give it; looked for from the track's folder
# up to the library's root (Artist/Album/01.mp3 finds Artist/artist.jpg).
ARTIST_IMAGES = ("artist.jpg", "artist.jpeg", "artist.png")


def folder_image(track: Track, seen: dict[Path, Path | None] | None = None) -> Path | None:
    """Return the cover image beside a track's file, whatever the case of its name.

    `seen` remembers the folders already looked at (a playlist's tracks share a few).
    """
    if track.is_url:
        return None
    folder = Path(track.path).parent
    if seen is not None:
        if folder not in seen:
            seen[folder] = folder_image(track)
        return seen[folder]
    return _image_named(folder, FOLDER_IMAGES)


def _image_named(folder: Path, names: tuple[str, ...]) -> Path | None:
    """Return the folder's file with the first of `names`, whatever the case of its name."""
    try:
        found = {entry.name.casefold(): entry for entry in folder.iterdir() if entry.is_file()}
    except OSError:
        return None
    return next((found[name] for name in names if name in found), None)


def has_cover(track: Track, seen: dict[Path, Path | None] | None = None) -> bool:
    """Return True when the track has a picture to show (embedded or beside it)."""
    return track.has_cover or folder_image(track, seen) is not None


def tracks_with_cover(tracks: Iterable[Track]) -> set[str]:
    """Return the ids of the tracks that have a cover."""
    seen: dict[Path, Path | None] = {}
    return {track.id for track in tracks if has_cover(track, seen)}


def track_cover(track: Track) -> tuple[bytes, str] | None:
    """Return (image bytes, MIME type) of a track's cover, or None."""
    if track.has_cover and (embedded := read_cover(track.path)) is not None:
        return embedded
    if (image := folder_image(track)) is None:
        return None
    return _read_image(image)


def artist_picture(track: Track, root: Path | None) -> tuple[bytes, str] | None:
    """Return (image bytes, MIME type) of the track's artist picture, or None.

    The file's own (an embedded picture of type artist), else the nearest `artist.jpg`/
    `artist.png` from the track's folder up to `root` (the library's folder, included); a
    track outside it looks in its own folder only.
    """
    if track.is_url:
        return None
    if track.has_cover and (embedded := read_artist_picture(track.path)) is not None:
        return embedded
    folder = Path(track.path).parent
    folders = [folder]
    if root is not None and folder.is_relative_to(root):
        folders += [parent for parent in folder.parents if parent.is_relative_to(root)]
    for place in folders:
        if (image := _image_named(place, ARTIST_IMAGES)) is not None:
            return _read_image(image)
    return None


def _read_image(image: Path) -> tuple[bytes, str] | None:
    try:
        if image.stat().st_size > MAX_IMAGE_BYTES:
            return None
        data = image.read_bytes()
    except OSError:
        return None
    mime = mimetypes.guess_type(image.name)[0] or "image/jpeg"
    return data, mime


def playlist_cover_track(tracks: Iterable[Track]) -> Track | None:
    """Return the track whose cover stands for a playlist (the first with one), or None."""
    seen: dict[Path, Path | None] = {}
    for index, track in enumerate(tracks):
        if index >= PLAYLIST_LOOKAHEAD:
            return None
        if has_cover(track, seen):
            return track
    return None
