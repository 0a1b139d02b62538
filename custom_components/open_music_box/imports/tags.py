"""Check that an imported file is audio and write its tags (mutagen; blocking: executor)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mutagen._file import File as mutagen_file
from mutagen.asf import ASFTags
from mutagen.id3 import ID3
from mutagen.id3._frames import TALB, TIT2, TPE1, TRCK  # the package re-exports them implicitly
from mutagen.mp4 import MP4Tags

from ..library import FileMeta, read_metadata

if TYPE_CHECKING:
    from .files import Item

# Matroska/WebM (YouTube's opus without ffmpeg): mutagen cannot read or tag it, mpv plays it.
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_EXTENSIONS = (".webm", ".mka")


@dataclass(frozen=True, slots=True)
class TagValues:
    """The tags an imported file gets."""

    title: str
    artist: str | None
    album: str | None
    track: int


def audio_kind(path: str) -> FileMeta | None:
    """Return the file's tags if it is audio with a duration (mutagen), else None.

    A Matroska/WebM file passes on its signature alone (empty tags): mutagen does not know it.
    """
    meta = read_metadata(path)
    if meta.corrupt:
        return None
    if meta.duration:
        return meta
    return FileMeta() if _is_matroska(path) else None


def _is_matroska(path: str) -> bool:
    if not path.lower().endswith(_EBML_EXTENSIONS):
        return False
    with open(path, "rb") as file:
        return file.read(4) == _EBML_MAGIC


def tag_values(meta: FileMeta, item: Item, number: int, default_album: str | None) -> TagValues:
    """Decide the tags: the file's own first, then the source's, then the URL's file name.

    A chapter's title always wins (ffmpeg copies the whole file's title into every chapter);
    the track number is always the place in the import.
    """
    if item.chapter and item.title:
        title = item.title
    else:
        title = meta.title or item.title or item.source_name or f"Track {number}"
    return TagValues(
        title=title,
        artist=meta.artist or item.artist,
        album=meta.album or item.album or default_album,
        track=number,
    )


def write_tags(path: str, values: TagValues) -> bool:
    """Write title, artist, album and track number; False when mutagen cannot tag the format."""
    audio: Any = mutagen_file(path)
    if audio is None:
        return False
    if audio.tags is None:
        audio.add_tags()
    tags: Any = audio.tags
    fields = {
        "title": values.title,
        "artist": values.artist,
        "album": values.album,
        "track": str(values.track),
    }
    if isinstance(tags, ID3):  # mp3, wav, aiff
        frames: dict[str, Any] = {"title": TIT2, "artist": TPE1, "album": TALB, "track": TRCK}
        id3: Any = tags
        for name, value in fields.items():
            if value is not None:
                id3.add(frames[name](encoding=3, text=[value]))
    elif isinstance(tags, MP4Tags):  # m4a
        for name, key in (("title", "\xa9nam"), ("artist", "\xa9ART"), ("album", "\xa9alb")):
            if (value := fields[name]) is not None:
                tags[key] = [value]
        tags["trkn"] = [(values.track, 0)]
    elif isinstance(tags, ASFTags):  # wma
        keys = {"title": "Title", "artist": "Author", "album": "WM/AlbumTitle"}
        for name, key in {**keys, "track": "WM/TrackNumber"}.items():
            if (value := fields[name]) is not None:
                tags[key] = [value]
    else:  # Vorbis comments: flac, ogg, opus
        keys = {"title": "title", "artist": "artist", "album": "album", "track": "tracknumber"}
        for name, key in keys.items():
            if (value := fields[name]) is not None:
                tags[key] = [value]
    audio.save()
    return True
